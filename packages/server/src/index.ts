export { createServer, TidewireServer, DEFAULT_PATH } from './server';
export type { ListenResult, PublishReceipt, ServerStats, InProcessSession } from './server';
export type { Clock as ServerClock } from './clock';
export type { ServerOptions, LimitOptions } from './options';
export type { AttachOptions, AnyHttpServer } from './attach';
export type { SessionRelay, RelayedRequest, RelayedResponse, RelayedRequestHandler } from './sessionRelay';
export type { FetchHandler, FetchHandlerOptions } from './fetchHandler';
export type { ServerChannelMessage, ServerGapInfo, ServerMessageListener, ServerSubscribeOptions, ServerSubscription } from './serverSubscribe';
export type {
  Authenticate,
  AuthenticateContext,
  AuthResult,
  Authorize,
  AuthorizeContext,
  AllowedOrigins,
  Logger,
  SessionInfo,
} from './hooks';
export { TidewireServerError, isTidewireServerError } from './errors';
export type { ServerErrorCode } from './errors';
export type { Broker, BrokerMessage, BrokerStats, BrokerSubscription, MessageListener, PublishInput, PublishResult } from './broker/broker';
export { dedupeKey } from './broker/broker';
export type { PresenceEvent, PresenceListener, PresenceWatch, HistoryQuery, HistoryResult } from './broker/broker';
export { MemoryBroker } from './broker/memoryBroker';
export type { MemoryBrokerOptions } from './broker/memoryBroker';
export type { Link } from './link';
export type { ServerMetrics, BrokerLatency, SessionTransport } from './metrics';
export { BROKER_LATENCY_BUCKETS_MS } from './metrics';
export { defaultIsChannel } from './channelName';
export { RpcError } from './rpc';
export type { RpcContext, RpcHandler, RpcMethod, RpcMethods, RpcSchema } from './rpc';
export { PublishRefusal } from './publishHook';
export type { OnPublish, PublishContext, PublishVerdict, PublishRefusalCode } from './publishHook';
export { bytesOf } from './bytes';
export type { BytesEnvelope } from './bytes';
