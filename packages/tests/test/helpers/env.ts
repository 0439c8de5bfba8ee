import WebSocketImpl from 'ws';
import type { WebSocketConstructor } from '@tidewire/core';

/**
 * Node 20 has no global WebSocket, so tests inject `ws`. With TIDEWIRE_WS=global
 * (the Node 22 run) the client must find the built-in one by itself: we pass nothing.
 */
export const useGlobalWebSocket = process.env.TIDEWIRE_WS === 'global';

export const injectedWebSocket: WebSocketConstructor | undefined = useGlobalWebSocket
  ? undefined
  : (WebSocketImpl as unknown as WebSocketConstructor);
