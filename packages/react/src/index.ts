export { TidewireProvider } from './provider';
export type { TidewireProviderProps } from './provider';
export { TidewireContext, useTidewire } from './context';
export { useConnectionState } from './use-connection-state';
export { useChannel } from './use-channel';
export type { UseChannelOptions, UseChannelResult } from './use-channel';
export type { ChannelMessage, ChannelViewSnapshot, Client, ClientOptions, ConnectionSnapshot, GapInfo, PublishResult } from '@tidewire/core';
