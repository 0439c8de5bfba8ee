/**
 * Whether a view's snapshot, describing channel `held` (`null`: nothing held, the idle snapshot),
 * may be shown by a render that asks for `channel`: not another channel's, nor any while the render
 * holds none (`null`, `enabled: false`). A view takes new options in an effect, after the render
 * that brought them; until then this keeps one channel's messages or members from showing under another.
 */
export const describes = (held: string | null, channel: string | null, enabled: boolean | undefined): boolean =>
  held === null || (held === channel && enabled !== false);
