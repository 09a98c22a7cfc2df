// Outside production: pick a demo person (the development-only /app/dev endpoints issue the
// token). In production: the identity provider's sign-in, or a pasted token.
import { useEffect, useState, type FormEvent } from "react";

export type AppConfig = {
  devSignIn: boolean;
  oidc: { authorizeUrl: string; clientId: string; scope: string } | null;
};

type Person = { email: string; fullName: string; role: string; company: string };

const STATE_KEY = "hr-graph-oidc-state";

/** The token an identity provider sent back in the URL's fragment, once (then removed). */
export function tokenFromRedirect(): string | null {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const token = hash.get("access_token") ?? hash.get("id_token");
  if (!token) return null;
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(STATE_KEY);
  history.replaceState(null, "", window.location.pathname);
  return expected && hash.get("state") === expected ? token : null;
}

function redirectToProvider(oidc: NonNullable<AppConfig["oidc"]>): void {
  const state = crypto.randomUUID();
  sessionStorage.setItem(STATE_KEY, state);
  const url = new URL(oidc.authorizeUrl);
  url.searchParams.set("client_id", oidc.clientId);
  url.searchParams.set("response_type", "token");
  url.searchParams.set("scope", oidc.scope);
  url.searchParams.set("redirect_uri", `${window.location.origin}/app/`);
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", crypto.randomUUID());
  window.location.assign(url.toString());
}

export function SignIn({ config, onToken, notice }: { config: AppConfig; onToken: (t: string) => void; notice?: string }) {
  const [people, setPeople] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pasted, setPasted] = useState("");
  const [pasteError, setPasteError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    if (!config.devSignIn) return;
    fetch("/app/dev/people")
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((list: Person[]) => setPeople(list))
      .catch(() => setError("The list of demo people could not be loaded: is the server running?"));
  }, [config.devSignIn]);

  async function signInAs(person: Person) {
    setBusy(person.email);
    setError(null);
    try {
      const response = await fetch("/app/dev/token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: person.email }),
      });
      const body = (await response.json()) as { token?: string; message?: string };
      if (!response.ok || !body.token) throw new Error(body.message ?? "No token was issued.");
      onToken(body.token);
    } catch (e) {
      setError(e instanceof Error && e.message ? e.message : "No token was issued: try again.");
    } finally {
      setBusy(null);
    }
  }

  function usePasted(event: FormEvent) {
    event.preventDefault();
    const token = pasted.trim().replace(/^Bearer\s+/i, "");
    if (token.split(".").length !== 3) {
      setPasteError("This is not a token: paste the whole JSON Web Token (three parts separated by dots).");
      return;
    }
    setPasteError(null);
    onToken(token);
  }

  return (
    <main className="page narrow">
      <h1>HR Graph</h1>
      {notice ? (
        <p className="error" role="alert">
          {notice}
        </p>
      ) : null}
      {config.devSignIn ? (
        <section aria-labelledby="demo-heading">
          <h2 id="demo-heading">Sign in as a demo person</h2>
          <p className="muted">Development only: the server issues a token for the person you pick.</p>
          {error ? (
            <p className="error" role="alert">
              {error}
            </p>
          ) : null}
          {people === null && !error ? <p>Loading the demo people…</p> : null}
          <ul className="people">
            {(people ?? []).map((person) => (
              <li key={person.email}>
                <button type="button" onClick={() => void signInAs(person)} disabled={busy !== null}>
                  {person.fullName}
                </button>
                <span className="muted">
                  {" "}
                  {person.email}, {person.role} at {person.company}
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {config.oidc ? (
        <section aria-labelledby="oidc-heading">
          <h2 id="oidc-heading">Sign in</h2>
          <button type="button" onClick={() => redirectToProvider(config.oidc!)}>
            Sign in with your company account
          </button>
        </section>
      ) : null}
      <section aria-labelledby="paste-heading">
        <h2 id="paste-heading">Or paste a token</h2>
        <form onSubmit={usePasted}>
          <label htmlFor="pasted-token">Token from your identity provider</label>
          <textarea
            id="pasted-token"
            rows={3}
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
            aria-describedby={pasteError ? "pasted-token-error" : undefined}
          />
          {pasteError ? (
            <p className="error" id="pasted-token-error" role="alert">
              {pasteError}
            </p>
          ) : null}
          <button type="submit">Use this token</button>
        </form>
      </section>
    </main>
  );
}
