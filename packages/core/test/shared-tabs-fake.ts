import { afterEach, expect, vi } from 'vitest';
import type { SubscribeFrame } from '../src/protocol/frames';
import { createSharedClient, inProcessLocks } from '../src/shared';
import type { SharedClient } from '../src/shared';
import { connected, fakeTransport } from './fake-transport';

/**
 * Tabs of one shared connection in Node: Node's BroadcastChannel between "tabs" of one process,
 * in-process Web Locks (one holder per name, FIFO), and a fake transport played by the test. Call
 * at a test file's top level: every tab opened is closed after each test.
 * @returns setup(extra?): a fresh connection name, its fake transport `t`, `open(more?)` for a tab
 *   (`extra` and `more` are client options), `serve()` to open and greet the line, `subscribes()`.
 */
export function useSharedTabs() {
  const tabs: SharedClient[] = [];
  afterEach(() => {
    for (const tab of tabs.splice(0)) tab.close();
  });
  return (extra: Record<string, unknown> = {}) => {
    const t = fakeTransport('websocket');
    const locks = inProcessLocks();
    const name = `tabs-${Math.random()}`;
    const open = (more: Record<string, unknown> = {}) => {
      const tab = createSharedClient({ url: 'ws://x/tw', name, locks, transports: [t.factory], takeoverWindow: 50, backoff: () => 10, ...extra, ...more });
      tabs.push(tab);
      return tab;
    };
    const subscribes = (line = t.last) => line.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe');
    const serve = async () => {
      await vi.waitFor(() => expect(t.lines.length).toBeGreaterThan(0));
      t.last.open();
      t.last.push(connected());
    };
    return { t, open, subscribes, serve, name, locks };
  };
}
