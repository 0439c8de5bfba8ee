import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { protocolJsonSchema, protocolJsonSchemaText } from '../src/protocolJsonSchema';

const committedPath = new URL('../../../docs/protocol.schema.json', import.meta.url);

describe('docs/protocol.schema.json', () => {
  it('is what the zod schemas generate today (run `pnpm schema` after changing a frame)', () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(protocolJsonSchemaText());
  });

  it('describes every frame type of both directions, and every $ref in it resolves', () => {
    const schema = protocolJsonSchema() as { $defs: Record<string, { oneOf?: { properties: { type: { const: string } } }[] }> };
    const types = (side: string) => schema.$defs[side]!.oneOf!.map((f) => f.properties.type.const);
    expect(types('ClientFrame')).toEqual([
      'connect', 'subscribe', 'unsubscribe', 'publish', 'refresh',
      'presence_subscribe', 'presence_unsubscribe', 'enter', 'leave', 'history', 'rpc', 'ping', 'pong',
    ]);
    expect(types('ServerFrame')).toEqual([
      'connected', 'subscribed', 'unsubscribed', 'message', 'ack', 'refreshed', 'error',
      'presence_snapshot', 'presence_change', 'presence_unsubscribed', 'left', 'entered', 'history_page', 'result', 'close', 'ping', 'pong',
    ]);
    const refs = [...JSON.stringify(schema).matchAll(/"\$ref":"#\/\$defs\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(Object.keys(schema.$defs)).toContain(ref);
  });
});
