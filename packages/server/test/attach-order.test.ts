import http from 'node:http';
import { describe, expect, it } from 'vitest';
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
      expect(server.listeners('upgrade')).toHaveLength(3);
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
