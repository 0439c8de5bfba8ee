import { nanoid } from 'nanoid';
import type { Clock, Timer } from './clock';
import type { TidewireError } from './errors';
import { encodeFrame } from './protocol/codec';
import type { TokenSource } from './token';
import type { TransportClose } from './transport';

/** How long an in-band `refresh` may go unanswered (at least; the connect timeout if longer). */
const REFRESH_ANSWER_TIMEOUT = 10_000;

/**
 * Arm `timer` to refresh the token in band before it expires: at `expiresIn` minus a lead of a
 * fifth of it (at most 30 s), `getToken({ reason: 'refresh' })` is asked and a `refresh` frame sent.
 * `getToken` must answer before the token expires (and within max(10 s, `connectTimeout`)), else
 * it is reported as `timeout`. A `refreshed` answer calls this again, which also ends the wait for it; none within
 * max(10 s, `connectTimeout`) means reconnecting with the token just fetched (`token_expired`).
 * Nothing is armed when `expiresIn` is undefined or the token cannot be refreshed.
 * @param expiresIn ms until the current token expires, as the server announced
 * @param line the connection: which line is live (`lineId_` changes whenever a line ends or is
 *   switched), and where the frame goes
 * @param lost called when the answer does not come: the line is treated as lost
 * @param onError getToken threw or hung: reported, not fatal yet (the server closes with
 *   `token_expired` and the client reconnects)
 */
export function scheduleRefresh(
  timer: Timer,
  tokens: TokenSource,
  clock: Clock,
  connectTimeout: number,
  expiresIn: number | undefined,
  line: { readonly lineId_: number; send_(frame: string): void },
  lost: (info: TransportClose) => void,
  onError: (error: TidewireError) => void,
): void {
  timer.stop_(); // a `refreshed` answer also ends the wait for it
  if (expiresIn === undefined || !tokens.canRefresh_) return;
  const lead = Math.min(30_000, expiresIn / 5);
  const answerWithin = Math.max(REFRESH_ANSWER_TIMEOUT, connectTimeout);
  timer.start_(expiresIn - lead, () => {
    // getToken has until the token expires (`lead` from now), at most `answerWithin`: one that has
    // not answered by then is reported (`timeout`), and the reconnect after `token_expired` asks afresh.
    // The refresh is for this line's session only: if getToken answers after the line was cut (or
    // switched) it is not sent on the next line, nor put that line's refresh timer on its deadline.
    const id = line.lineId_;
    tokens.get_('refresh', { clock_: clock, ms_: Math.min(lead, answerWithin) }).then(
      (token) => {
        if (!token || line.lineId_ !== id) return;
        line.send_(encodeFrame({ type: 'refresh', id: nanoid(), token }));
        // No `refreshed` in time (a lost frame, a refusal): reconnect. The token just fetched is
        // the cached one now, so the new connection authenticates with it.
        timer.start_(answerWithin, () => lost({ code: 'token_expired', message: `no answer to a token refresh within ${answerWithin} ms` }));
      },
      onError, // reported even if the line is gone meanwhile: a getToken that hangs or throws is the app's to know
    );
  });
}
