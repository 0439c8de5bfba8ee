import { cookies } from 'next/headers';
import { SESSION_COOKIE, sessionSecret, verifyToken } from '../directory';

/**
 * Who is logged in, from the HttpOnly session cookie the login form set.
 * @returns the user's name, or null when the cookie is missing or forged
 */
export async function currentUser(): Promise<string | null> {
  return verifyToken((await cookies()).get(SESSION_COOKIE)?.value, sessionSecret());
}
