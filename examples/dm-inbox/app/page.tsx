import { conversationsOf, USERS } from '../directory';
import { logIn } from './actions';
import { Inbox } from './inbox';
import { currentUser } from './session';

// The session cookie decides what renders: never prerender this page.
export const dynamic = 'force-dynamic';

/**
 * The page, a Server Component: the login form (a Server Action, works without JavaScript) or the
 * inbox of the logged-in user, whose conversations are known here from the cookie.
 */
export default async function Page() {
  const me = await currentUser();
  if (!me) {
    return (
      <>
        <header>
          <h1>Inbox</h1>
        </header>
        <form action={logIn} className="card" data-testid="login">
          <label>
            Log in as{' '}
            <select name="name" defaultValue="Ada">
              {USERS.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </label>{' '}
          <button type="submit">Log in</button>
        </form>
      </>
    );
  }
  return <Inbox key={me} me={me} conversations={conversationsOf(me)} />;
}
