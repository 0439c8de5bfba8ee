/**
 * Default channel-name rule: printable, URL- and Redis-key-friendly, bounded.
 * Bounding the length also bounds the memory one hostile client can pin.
 */
const CHANNEL_NAME = /^[A-Za-z0-9_:.\-@/=+*]{1,200}$/;

/**
 * The default channel-name rule, `/^[A-Za-z0-9_:.\-@/=+*]{1,200}$/`.
 * @param name - a channel name.
 * @returns whether the name is valid; invalid names are answered `unknown_channel`.
 */
export const defaultIsChannel = (name: string): boolean => CHANNEL_NAME.test(name);
