export { createRedisBroker, RedisBroker } from './redisBroker';
export type { PubsubListener, PubsubTarget, RedisBrokerOptions, RedisClientLike, RedisClusterLike } from './options';
export { RedisBrokerError, isRedisBrokerError } from './errors';
export type { RedisBrokerErrorCode } from './errors';
export { RedisSessionRelay } from './sessionRelay';
export type { RedisSessionRelayOptions } from './sessionRelay';
