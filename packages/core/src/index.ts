export { createClient, Client } from './client';
export type { ClientOptions, ClientEvents } from './client';
export type { TidewireClient, TidewireChannel, TidewirePresence } from './client-surface';
export { Channel } from './channel';
export type { ChannelEvents, ChannelOptions } from './channel';
export { ChannelPresence } from './presence';
export { PresenceView } from './presence-view';
export type { PresenceViewOptions, PresenceViewSnapshot } from './presence-view';
export type { PresenceSnapshot, PresenceEvents, PresenceMember } from './presence';
export type { HistoryOptions, HistoryPage } from './history';
export type { Feature } from './features';
export type { ChannelMessage, ChannelSnapshot, GapInfo } from './channel-state';
export type { ConnectionSnapshot, ConnectionStateName, StateChange, TransportReason } from './connection-state';
export type { PublishResult } from './outbox';
export { memoryOutbox } from './outbox-storage';
export type { OutboxStorage, PendingPublish, StoredPublish } from './outbox-storage';
export type { ClientMetrics } from './metrics';
export type { PublishOptions } from './publish-options';
export {
  TidewireError,
  RequestError,
  TimeoutError,
  ConnectionError,
  ProtocolError,
  ValidationError,
  isTidewireError,
} from './errors';
export type { TidewireErrorCode, TidewireErrorOptions } from './errors';
export { exponentialBackoff } from './backoff';
export type { Backoff, BackoffOptions } from './backoff';
export { systemClock } from './clock';
export type { Clock, TimerHandle } from './clock';
export type { GetToken, TokenReason } from './token';
export type { StandardSchemaV1, InferOutput } from './schema';
export { websocket } from './transports/websocket';
export type { WebSocketTransportOptions } from './transports/websocket';
export type { FrameLimitOptions } from './transports/frame-limit';
export type {
  Transport,
  TransportFactory,
  TransportName,
  TransportContext,
  TransportEvents,
  TransportClose,
  WebSocketLike,
  WebSocketConstructor,
} from './transport';
export { withScheme } from './transport';
export { resolveUrl, resolveRenderUrl } from './resolve-url';
export type { Position, CloseCode, ErrorCode } from './protocol/frames';
export { ChannelView } from './channel-view';
export type { ChannelViewOptions, ChannelViewSnapshot } from './channel-view';
export { Store } from './store';
export { inMemoryTransportMemory, storageTransportMemory } from './transport-memory';
export type { TransportMemory } from './transport-memory';
export { fallbackPlan } from './fallback-plan';
export { singleTransportPlan } from './transport-plan';
export type { TransportPlan, PlanFactory, PlanOptions } from './transport-plan';
export type { PayloadCodec } from './payload-codec';
