/** Member names the minifier renames: lower camelCase ending in a single `_` (see size-config.mjs). */
export declare const internalProps: RegExp;
/** esbuild options for every client bundle, published or measured. */
export declare const clientMinify: { readonly mangleProps: RegExp };
