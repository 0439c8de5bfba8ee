import type { Backoff } from './backoff';
import type { Clock } from './clock';
import type { StateChange } from './connection-state';
import type { TidewireError } from './errors';
import type { ConnectedFrame, ServerFrame } from './protocol/frames';
import type { TokenSource } from './token';
import type { TransportContext } from './transport';
import type { TransportPlan } from './transport-plan';

/** What the connection tells the client that owns it. */
export interface ConnectionHandler {
  onStateChange_(change: StateChange): void;
  onConnected_(frame: ConnectedFrame): void;
  /** Every server frame that is not about the connection itself. */
  onFrame_(frame: ServerFrame): void;
  /** The line dropped or was replaced (the reason is in the state change). In-flight work must be re-sent on the next one. */
  onDisconnected_(): void;
  /** The connection ended for good (closed or failed). Pending work must settle now. */
  onTerminated_(error: TidewireError): void;
  /** A problem worth reporting that does not end anything (e.g. a malformed frame): a function value, handed on as is. */
  readonly onError_: (error: TidewireError) => void;
  /** Publishes not yet acknowledged, for the metrics (none: 0). */
  queued_?(): number;
  /** Whether a request that may not be sent again (an rpc) is on the wire: a line switch would lose its answer. */
  busy_?(): boolean;
}

export interface ConnectionOptions {
  plan_: TransportPlan;
  tokens_: TokenSource;
  clock_: Clock;
  /** Delay before reconnect attempt n, already isolated by the caller (`isolatedBackoff`): the connection calls it as it is. */
  backoff_: Backoff;
  /** Deadline for the server's first frame after opening a transport (an upgrade probe's too). */
  connectTimeout_: number;
  /** What every transport is opened with besides the token: the endpoint and injected implementations. */
  context_: Omit<TransportContext, 'token'>;
  handler_: ConnectionHandler;
}
