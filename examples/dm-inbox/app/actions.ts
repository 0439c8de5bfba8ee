'use server';
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { SESSION_COOKIE, sessionSecret, signToken, USERS } from '../directory';

/**
 * The login form's Server Action: sets the signed session cookie the page and the Tidewire
 * endpoint both read. HttpOnly, so no script (and no URL) ever holds the credential.
 * @param form the login form (`name`: Ada, Bob or Eve)
 */
export async function logIn(form: FormData): Promise<void> {
  const name = String(form.get('name'));
  if ((USERS as readonly string[]).includes(name)) {
    // Secure when the page came over HTTPS (a proxy says so); plain http://localhost would drop a Secure cookie.
    const secure = (await headers()).get('x-forwarded-proto') === 'https';
    (await cookies()).set(SESSION_COOKIE, signToken(name, sessionSecret()), { httpOnly: true, sameSite: 'lax', secure, path: '/' });
  }
  redirect('/');
}

/** Forget the session cookie; the inbox unmounts and its client closes. */
export async function logOut(): Promise<void> {
  (await cookies()).delete(SESSION_COOKIE);
  redirect('/');
}
