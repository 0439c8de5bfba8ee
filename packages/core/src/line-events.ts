import type { TransportClose, TransportEvents } from './transport';

/** Where the events of a line go (the connection), with the line's id so that those of a stale line are dropped there. */
export interface LineOwner {
  lineOpened_(line: LineEvents): void;
  lineFrame_(id: number, text: string): void;
  lineActivity_(id: number, bytes?: number): void;
  lineInvalid_(id: number, reason: string): void;
  lineClosed_(id: number, info: TransportClose): void;
}

/**
 * The events one transport (one line) reports to its connection, tagged with the line's id.
 * Methods on a prototype rather than a closure per event: every live line of every idle client
 * holds one small object (transports call them as methods, never detached).
 */
export class LineEvents implements TransportEvents {
  // Fields written out rather than as constructor parameter properties: esbuild declares those
  // under their source names while it shortens the assignments, so each line held both (dist only).
  /** The connection. */
  readonly owner_: LineOwner;
  /** The line's id; once the connection has moved on, its events are dropped. */
  readonly id_: number;
  /** Whether opening sends the `connect` frame (a probed line that is adopted already did). */
  readonly greets_: boolean;
  /** The token that frame carries. */
  readonly token_: string | undefined;

  constructor(owner: LineOwner, id: number, greets: boolean, token?: string) {
    this.owner_ = owner;
    this.id_ = id;
    this.greets_ = greets;
    this.token_ = token;
  }

  onOpen(): void {
    this.owner_.lineOpened_(this);
  }

  onFrame(text: string): void {
    this.owner_.lineFrame_(this.id_, text);
  }

  onActivity(bytes?: number): void {
    this.owner_.lineActivity_(this.id_, bytes);
  }

  onInvalid(reason: string): void {
    this.owner_.lineInvalid_(this.id_, reason);
  }

  onClose(info: TransportClose): void {
    this.owner_.lineClosed_(this.id_, info);
  }
}
