import { describe, expect, it } from 'vitest';
import { ChannelTable } from '../src/channel-table';
import type { SharedChannel } from '../src/shared-channel';

/** Stand-ins: the table only stores and hands back what it is given. */
const ch = (name: string) => ({ name }) as unknown as SharedChannel;

describe('ChannelTable (one channel inline, a Map from the second on)', () => {
  it('behaves as a Map through every size: get, set (replace), delete, values in insertion order', () => {
    const table = new ChannelTable();
    const model = new Map<string, SharedChannel>();
    const a = ch('a'), a2 = ch('a2'), b = ch('b'), c = ch('c');
    const steps: [string, string, SharedChannel?][] = [
      ['get', 'a'], ['set', 'a', a], ['set', 'a', a2], ['get', 'b'], ['set', 'b', b], ['delete', 'a'], ['set', 'c', c],
      ['set', 'a', a], ['delete', 'b'], ['delete', 'c'], ['delete', 'a'], ['set', 'b', b], ['delete', 'zz'],
    ];
    for (const [op, name, value] of steps) {
      if (op === 'set') {
        table.set(name, value!);
        model.set(name, value!);
      } else if (op === 'delete') {
        table.delete(name);
        model.delete(name);
      }
      for (const key of ['a', 'b', 'c', 'zz']) expect(table.get(key)).toBe(model.get(key));
      expect([...table.values()]).toEqual([...model.values()]);
    }
  });

  it('with one channel: a channel deleted while iterating ends the iteration', () => {
    const table = new ChannelTable();
    table.set('a', ch('a'));
    const seen: SharedChannel[] = [];
    for (const channel of table.values()) {
      seen.push(channel);
      table.delete('a');
    }
    expect(seen).toHaveLength(1);
    expect([...table.values()]).toEqual([]);
  });
});
