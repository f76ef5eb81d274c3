import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Api, type Caller } from './api';
import { OperatorConsole } from './operator';
import { TenantConsole } from './tenant';
import { Failure } from './ui';

/** The token lives in this tab's session storage only: closed tab, signed out; no cookie for another site to ride on. */
const TOKEN_KEY = 'wws-console-token';

function App() {
  const [session, setSession] = useState<{ api: Api; caller: Caller } | undefined>();
  const [error, setError] = useState<unknown>();
  const [token, setToken] = useState('');
  const signIn = async (given: string): Promise<void> => {
    const api = new Api(given);
    try {
      const caller = await api.whoAmI();
      sessionStorage.setItem(TOKEN_KEY, given);
      setSession({ api, caller });
      setError(undefined);
    } catch (err) {
      sessionStorage.removeItem(TOKEN_KEY);
      setError(err);
    }
  };
  useEffect(() => {
    const kept = sessionStorage.getItem(TOKEN_KEY);
    if (kept) void signIn(kept);
  }, []);
  if (!session) {
    return (
      <main class="signin">
        <h1>WhatsApp webhooks console</h1>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void signIn(token.trim());
          }}
        >
          <label for="token">Admin token or tenant API key</label>
          <input id="token" type="password" autocomplete="off" required value={token} onInput={(e) => setToken(e.currentTarget.value)} size={50} />
          <p class="muted">The operator signs in with ADMIN_TOKEN, a tenant with its API key (wwsk_…). The page can do only what the API lets that token do.</p>
          <button type="submit">Sign in</button>
        </form>
        <Failure error={error} />
      </main>
    );
  }
  const signOut = (): void => {
    sessionStorage.removeItem(TOKEN_KEY);
    setSession(undefined);
    setToken('');
  };
  return (
    <>
      <header>
        <h1>WhatsApp webhooks console</h1>
        <span class="who">{session.caller.kind === 'admin' ? 'Operator' : `Tenant ${session.caller.tenantId}`}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      {session.caller.kind === 'admin' ? <OperatorConsole api={session.api} /> : <TenantConsole api={session.api} />}
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
