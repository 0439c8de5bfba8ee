import { libraryConfig } from '../../tsup.base';
import pkg from './package.json' with { type: 'json' };

// Every built file starts with "use client": the hooks and the provider need client React
// (state, effects, context), so a Next.js app-router Server Component can render
// <TidewireProvider> directly, without a wrapper file of its own. Declarations get none.
// Rollup's tree-shaking pass (treeshake: true) strips module directives, banner included;
// esbuild's own bundling already drops unused code here. One entry needs no code splitting, and
// without it tsup builds CJS with esbuild directly rather than converting ESM, keeping the banner.
export default libraryConfig(pkg, { banner: { js: '"use client";' }, treeshake: false, splitting: false });
