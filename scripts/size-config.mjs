// The minifier settings the published client build (packages/core/tsup.config.ts) and the size
// scripts (scripts/size.mjs, scripts/size-breakdown.mjs) share, so what is measured is what ships.
//
// Internal members follow one convention: a member name ending in one underscore (`send_`,
// `sinks_`) is internal to @tidewire/core, and esbuild shortens it (`mangleProps`). Public API,
// option and event names, protocol frames, and anything another package or a user reads never end
// in `_`. `#private` fields need no convention: esbuild already shortens them.
//
// Every entry of one format is one esbuild build (tsup `splitting`), so a mangled name is the same
// in every chunk that uses it; nothing with a mangled member crosses a package boundary.

/** Member names the minifier renames: lower camelCase ending in a single `_`. */
export const internalProps = /^[a-z][A-Za-z0-9]*[A-Za-z0-9]_$/;

/** esbuild options for every client bundle, published or measured. */
export const clientMinify = { mangleProps: internalProps };
