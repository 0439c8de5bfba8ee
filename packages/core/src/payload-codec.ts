/**
 * The payload codec hook: how `data` is turned into a frame's JSON `data` and back. The default is
 * none at all (data is JSON as it is), so a client that never sends bytes ships none of this;
 * `binary()` from `@tidewire/core/binary` plugs bytes in (protocol §17).
 */
export interface PayloadCodec {
  /**
   * Turn app data into what the frame carries (must be JSON). May return a promise (reading a
   * `Blob`): the publish then waits for it before it takes its place in the outbox.
   */
  encode(data: unknown): unknown;
  /** Turn a frame's `data` (message, rpc result) back into app data. Must not throw. */
  decode(data: unknown): unknown;
}
