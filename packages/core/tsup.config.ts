import { libraryConfig } from '../../tsup.base';
import { clientMinify } from '../../scripts/size-config.mjs';
import pkg from './package.json' with { type: 'json' };

// Internal `name_` members are shortened exactly as scripts/size.mjs measures them.
export default libraryConfig(pkg, { esbuildOptions: (options) => void Object.assign(options, clientMinify) });
