/**
 * The nesting limit, measured without recursion. A frame nested thousands of levels deep parses
 * fine but overflows the stack of anything recursive that touches it later (JSON.stringify when
 * it is fanned out or replayed), so it is refused on arrival, by a loop that cannot overflow.
 */

const OPEN_BRACE = 0x7b; // {
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACE = 0x7d; // }
const CLOSE_BRACKET = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether JSON `text` nests objects/arrays more than `max` levels deep (the outermost frame
 * object is level 1). One pass over the characters; brackets inside strings do not count.
 * Meant for text that is then parsed: invalid JSON may give any answer, and the parser refuses it.
 * @param text JSON text
 * @param max deepest nesting allowed, in levels
 * @returns true when some value is nested deeper than `max`
 */
export function jsonTextTooDeep(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++; // skip the escaped character (it may be a quote)
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/**
 * Whether `text` holds at most `max` `{` and `[` in all, counted with the native `indexOf`: then nothing
 * in it can nest deeper than `max`, and the character-by-character scan of {@link jsonTextTooDeep} (a
 * measurable part of every publish) is skipped. Brackets inside strings count too, which only sends the
 * text to the exact scan.
 * @param text JSON text
 * @param max deepest nesting allowed, in levels
 * @returns true when the text certainly nests no deeper than `max`
 */
export function fewerOpenersThan(text: string, max: number): boolean {
  let openers = 0;
  for (let i = text.indexOf('{'); i !== -1 && openers <= max; i = text.indexOf('{', i + 1)) openers++;
  for (let i = text.indexOf('['); i !== -1 && openers <= max; i = text.indexOf('[', i + 1)) openers++;
  return openers <= max;
}

/**
 * {@link jsonTextTooDeep}, with the exact scan only for texts that hold more than `max` openers.
 * @returns true when some value is nested deeper than `max`
 */
export function jsonTextNestsTooDeep(text: string, max: number): boolean {
  return !fewerOpenersThan(text, max) && jsonTextTooDeep(text, max);
}
