/**
 * The payload codec hook: how `data` is turned into a frame's JSON `data` and back. The default is
 * none at all (data is JSON as it is), so a client that never sends bytes ships none of this;
 * `binary()` from `@tidewire/core/binary` plugs bytes in (protocol §17).
 */
export interface PayloadCodec {
  /**
   * Turn app data into what the frame carries (must be JSON). May return a promise or any thenable
   * (reading a `Blob`): the publish then waits for it before it takes its place in the outbox. A
   * throw, a rejection or `undefined` rejects that publish (a `TidewireError` as it is, anything
   * else as `listener_error`); `publish()` itself never throws.
   */
  encode(data: unknown): unknown;
  /**
   * Turn a frame's `data` (message, rpc result, history page) back into app data, synchronously.
   * A throw, `undefined` or a thenable is a `listener_error`: that message is consumed at its offset
   * without being delivered (reported on the client's and the channel's `error`), that rpc call or
   * history read rejects.
   */
  decode(data: unknown): unknown;
}
