import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { Shell } from "./Shell";
import { SignIn, tokenFromRedirect, type AppConfig } from "./SignIn";
import "./styles.css";

const TOKEN_KEY = "hr-graph-token";

function Root() {
  const [config, setConfig] = useState<AppConfig | null>(null);
  const [configError, setConfigError] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(() => tokenFromRedirect() ?? sessionStorage.getItem(TOKEN_KEY));
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    fetch("/app/config.json")
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((c: AppConfig) => setConfig(c))
      .catch(() => setConfigError("The server could not be reached: check your connection and reload the page."));
  }, []);

  useEffect(() => {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  }, [token]);

  if (token) {
    return (
      <Shell
        key={token}
        token={token}
        onSignOut={(why) => {
          setNotice(why);
          setToken(null);
        }}
      />
    );
  }
  if (configError) {
    return (
      <main className="page narrow">
        <p className="error" role="alert">
          {configError}
        </p>
      </main>
    );
  }
  if (!config) return <main className="page narrow">Loading…</main>;
  return <SignIn config={config} notice={notice} onToken={(t) => { setNotice(undefined); setToken(t); }} />;
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
