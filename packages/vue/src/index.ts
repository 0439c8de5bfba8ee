export { createTidewire, provideTidewire, useTidewire } from './context';
export type { TidewireOptions, TidewirePlugin } from './context';
export { useWebSocket } from './use-websocket';
export type { UseWebSocketOptions, UseWebSocketReturn, UseWebSocketUrlOptions } from './use-websocket';
export { useChannel } from './use-channel';
export type { UseChannelOptions, UseChannelReturn } from './use-channel';
export { usePresence } from './use-presence';
export type { UsePresenceOptions, UsePresenceReturn } from './use-presence';
