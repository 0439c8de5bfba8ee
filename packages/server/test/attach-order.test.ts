import http from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { routeHttpServer, type RouteHandlers } from '../src/attach';

const handlers: RouteHandlers = { upgrade: () => {}, request: () => {} };

/** Every order of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('routeHttpServer: detaching in any order', () => {
  for (const order of permutations([0, 1, 2])) {
    it(`three attaches undone in order ${order.join(',')} leave exactly the app's own listeners`, () => {
      const app = (): void => {};
      const server = http.createServer(app);
      const detachers = ['/a', '/b', '/c'].map((path) => routeHttpServer(server, path, handlers, {}));
      // One router, whatever the number of attaches: the app is never called twice.
      expect(server.listeners('request')).toHaveLength(1);
      expect(server.listeners('upgrade')).toHaveLength(1);
      for (const i of order) {
        detachers[i]?.();
        detachers[i]?.(); // idempotent
      }
      expect(server.listeners('request')).toEqual([app]);
      expect(server.listeners('upgrade')).toEqual([]);
    });
  }

  it('after the last detach, a new attach takes the app listeners over again', () => {
    const app = (): void => {};
    const server = http.createServer(app);
    routeHttpServer(server, '/a', handlers, {})();
    const detach = routeHttpServer(server, '/b', handlers, {});
    expect(server.listeners('request')).not.toContain(app);
    detach();
    expect(server.listeners('request')).toEqual([app]);
  });
});

describe('routeHttpServer: upgrades', () => {
  const fakeSocket = () => ({ destroyed: false, writable: true, bytesWritten: 0, ended: 0, end() { this.ended++; } });

  it('an upgrade on a path is handled by the latest attach of that path only', () => {
    const server = http.createServer();
    const got: string[] = [];
    const on = (name: string): RouteHandlers => ({ upgrade: (_req, _s, _h, sub) => void got.push(`${name}${sub}`), request: () => {} });
    routeHttpServer(server, '/t', on('old'), {});
    const detachNew = routeHttpServer(server, '/t', on('new'), {});
    server.emit('upgrade', { url: '/t/x' }, fakeSocket(), Buffer.alloc(0));
    detachNew();
    server.emit('upgrade', { url: '/t' }, fakeSocket(), Buffer.alloc(0));
    expect(got).toEqual(['new/x', 'old']);
  });

  it("a stray upgrade no listener answers is ended after the shortest attach's destroyUpgradeTimeout; never when all are false", () => {
    vi.useFakeTimers();
    try {
      const server = http.createServer();
      const detachA = routeHttpServer(server, '/a', handlers, { destroyUpgradeTimeout: false });
      const detachB = routeHttpServer(server, '/b', handlers, { destroyUpgradeTimeout: 500 });
      const stray = fakeSocket();
      server.emit('upgrade', { url: '/elsewhere' }, stray, Buffer.alloc(0));
      vi.advanceTimersByTime(499);
      expect(stray.ended).toBe(0);
      vi.advanceTimersByTime(1);
      expect(stray.ended).toBe(1);
      detachB();
      const left = fakeSocket();
      server.emit('upgrade', { url: '/elsewhere' }, left, Buffer.alloc(0));
      vi.advanceTimersByTime(60_000);
      expect(left.ended).toBe(0);
      detachA();
    } finally {
      vi.useRealTimers();
    }
  });
});
