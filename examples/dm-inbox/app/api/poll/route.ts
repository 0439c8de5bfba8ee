import { sessionSecret, verifyToken } from '../../../directory';
import { dmServer } from '../../../dm-singleton';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/**
 * What the app did before Tidewire, kept for `measure.ts`: every 2 s, "anything new since N?" for
 * all my conversations (`GET /api/poll?since=N`, `Authorization: Bearer <login>`).
 */
export async function GET(request: Request): Promise<Response> {
  const user = verifyToken(request.headers.get('authorization')?.replace(/^Bearer /, ''), sessionSecret());
  if (!user) return Response.json({ error: 'log in first' }, { status: 401 });
  const since = Number(new URL(request.url).searchParams.get('since') ?? 0);
  return Response.json((await dmServer()).poll(user, Number.isInteger(since) && since >= 0 ? since : 0), { headers: { 'cache-control': 'no-store' } });
}
