/**
 * The program behind `startServerProcess()`: a Tidewire server in its own process, so a test
 * can block its own event loop (a long task, a frozen tab) while the server keeps running.
 * Reads one JSON command per stdin line, answers one JSON line per command on stdout.
 */
import { createInterface } from 'node:readline';
import { createServer } from '@tidewire/server';

type Command =
  | { readonly cmd: 'publishLater'; readonly channel: string; readonly values: readonly unknown[]; readonly delayMs: number; readonly everyMs: number }
  | { readonly cmd: 'close' };

const options = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof createServer>[0];
const server = createServer({ logger: { warn: () => {}, error: () => {} }, ...options });
const { url } = await server.listen(0);
const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
reply({ ready: true, url });

/** Publish `values` one by one, starting after `delayMs`, `everyMs` apart (the server-side source of messages). */
function publishLater({ channel, values, delayMs, everyMs }: Extract<Command, { cmd: 'publishLater' }>): void {
  values.forEach((value, i) => {
    setTimeout(() => {
      void server.publish(channel, value);
    }, delayMs + i * everyMs);
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as Command;
  if (command.cmd === 'publishLater') {
    publishLater(command);
    reply({ ok: true });
  } else {
    await server.close();
    reply({ closed: true });
    process.exit(0);
  }
}
