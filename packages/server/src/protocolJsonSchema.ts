import { z } from 'zod';
import { clientFrame, json, serverFrame } from './protocolSchema';

/**
 * docs/protocol.schema.json, generated from the zod schemas (run `pnpm schema`; a test fails
 * when the committed file is stale). `io: 'input'` describes what a peer may send: objects
 * allow unknown extra fields, as the validators do.
 * @returns the JSON Schema (draft 2020-12) of every client and server frame
 */
export function protocolJsonSchema(): Record<string, unknown> {
  const [client, server] = [clientFrame, serverFrame].map((schema) => {
    const { $schema: _, $defs = {}, ...body } = z.toJSONSchema(schema, {
      io: 'input',
      target: 'draft-2020-12',
      // `data` is checked for presence only at run time (see protocolSchema.ts); document it as the JSON value it is.
      unrepresentable: 'any',
      override: (ctx) => {
        if (ctx.zodSchema === json) ctx.jsonSchema.$ref = '#/$defs/JsonValue';
      },
    });
    return { body, $defs };
  });
  const { $schema: _, ...jsonValue } = z.toJSONSchema(z.json(), { target: 'draft-2020-12' });
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/tidewire/tidewire/blob/main/docs/protocol.schema.json',
    title: 'Tidewire wire protocol, version 1',
    description:
      'Every frame is one JSON object. Generated from packages/server/src/protocolSchema.ts by `pnpm schema`; docs/protocol.md is the normative prose.',
    // Shared definitions (the recursive JSON value of `data`) hoisted to the root, where their `#/$defs/…` references point.
    $defs: { ...client!.$defs, ...server!.$defs, JsonValue: jsonValue, ClientFrame: client!.body, ServerFrame: server!.body },
    oneOf: [{ $ref: '#/$defs/ClientFrame' }, { $ref: '#/$defs/ServerFrame' }],
  };
  // JsonValue was generated on its own, so its recursion points at its own root ('#'); here it lives in $defs.
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#"', '"$ref":"#/$defs/JsonValue"')) as Record<string, unknown>;
}

/** The file's exact text: 2-space JSON and a final newline. */
export const protocolJsonSchemaText = (): string => `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
