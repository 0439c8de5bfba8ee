import { dmServer } from '../../../dm-singleton';

// Tidewire's SSE stream and long polls are long-lived, per-request responses from a process that
// keeps sessions in memory: Node runtime, never cached or prerendered.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** SSE (`GET /tidewire/sse`), long polling (`GET`/`POST /tidewire/poll`), frames (`POST`) and session end (`DELETE`). */
async function handler(request: Request): Promise<Response> {
  return (await dmServer()).transports(request);
}

export { handler as GET, handler as POST, handler as DELETE };
