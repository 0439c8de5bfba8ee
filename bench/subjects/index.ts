import type { Subject } from './types';

/** Every subject by id; loaded lazily so each child process only loads what it runs. */
export const SUBJECT_IDS = ['tidewire-ws', 'tidewire-sse', 'tidewire-longpoll', 'ws', 'socketio-ws', 'socketio-polling', 'socketio-polling-fetch', 'sse'] as const;
export type SubjectId = (typeof SUBJECT_IDS)[number];

export const SUBJECT_LABELS: Record<SubjectId, string> = {
  'tidewire-ws': 'Tidewire WebSocket',
  'tidewire-sse': 'Tidewire SSE',
  'tidewire-longpoll': 'Tidewire long polling',
  ws: 'raw ws (baseline)',
  'socketio-ws': 'socket.io websocket (baseline)',
  'socketio-polling': 'socket.io polling, XHR (baseline)',
  'socketio-polling-fetch': 'socket.io polling, fetch (baseline)',
  sse: 'raw SSE (baseline)',
};

export async function loadSubject(id: SubjectId): Promise<Subject> {
  switch (id) {
    case 'tidewire-ws':
      return (await import('./tidewire')).tidewire('websocket');
    case 'tidewire-sse':
      return (await import('./tidewire')).tidewire('sse');
    case 'tidewire-longpoll':
      return (await import('./tidewire')).tidewire('longpoll');
    case 'ws':
      return (await import('./ws')).rawWs;
    case 'socketio-ws':
      return (await import('./socketio')).socketIo('websocket');
    case 'socketio-polling':
      return (await import('./socketio')).socketIo('polling');
    case 'socketio-polling-fetch':
      return (await import('./socketio')).socketIo('polling-fetch');
    case 'sse':
      return (await import('./sse')).rawSse;
  }
}
