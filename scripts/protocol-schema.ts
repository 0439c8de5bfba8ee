/**
 * Writes docs/protocol.schema.json from the protocol's zod schemas (`pnpm schema`).
 * With --check, writes nothing and exits 1 when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { protocolJsonSchemaText } from '../packages/server/src/protocolJsonSchema';

const target = fileURLToPath(new URL('../docs/protocol.schema.json', import.meta.url));
const text = protocolJsonSchemaText();

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== text) {
    console.error('docs/protocol.schema.json is stale: run `pnpm schema`');
    process.exit(1);
  }
  console.log('docs/protocol.schema.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote docs/protocol.schema.json (${text.length} bytes)`);
}
