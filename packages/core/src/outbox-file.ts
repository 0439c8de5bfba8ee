import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OutboxStorage, StoredPublish } from './outbox-storage';

/**
 * An {@link OutboxStorage} in one JSON file (Node, Deno, Bun): the whole outbox is rewritten on
 * every change, through a temporary file and a rename, so a crash mid-write leaves the previous
 * version. Meant for the small outboxes of CLI tools and devices, not for thousands of publishes
 * per second. `data` must be JSON.
 * @param path the file (created with its directory on the first write).
 * @returns the storage, to pass as `createClient({ outboxStorage })`.
 */
export function fileOutbox(path: string): OutboxStorage {
  let entries: Promise<Map<string, StoredPublish>> | undefined;
  const load = (): Promise<Map<string, StoredPublish>> =>
    (entries ??= readFile(path, 'utf8').then(
      (text) => new Map((JSON.parse(text) as StoredPublish[]).map((e) => [e.id, e])),
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return new Map<string, StoredPublish>();
        throw error;
      },
    ));
  // One write at a time, each the whole map: the file always holds a complete outbox.
  let writing: Promise<void> = Promise.resolve();
  const save = (map: Map<string, StoredPublish>): Promise<void> =>
    (writing = writing.catch(() => {}).then(async () => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, JSON.stringify([...map.values()]));
      await rename(`${path}.tmp`, path);
    }));
  return {
    get: async (id) => (await load()).get(id),
    set: async (id, entry) => {
      const map = await load();
      map.set(id, entry);
      await save(map);
    },
    delete: async (id) => {
      const map = await load();
      if (map.delete(id)) await save(map);
    },
    list: async () => [...(await load()).values()],
  };
}

export type { OutboxStorage, PendingPublish, StoredPublish } from './outbox-storage';
