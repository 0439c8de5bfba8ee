import { websocket } from '@tidewire/core';
import type { TransportFactory } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';

/** The three transports the live view can run on, each its own entry point of `@tidewire/core`. */
export const TRANSPORTS = {
  websocket: { label: 'WebSocket', create: (): TransportFactory => websocket() },
  sse: { label: 'SSE', create: (): TransportFactory => sse() },
  longpoll: { label: 'Long polling', create: (): TransportFactory => longpoll() },
} as const;

export type TransportChoice = keyof typeof TRANSPORTS;

export const isTransportChoice = (value: unknown): value is TransportChoice => typeof value === 'string' && Object.hasOwn(TRANSPORTS, value);
