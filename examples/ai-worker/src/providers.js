// The AI providers: the primary, then (when enableFallbackProviders is on) the fallbacks in turn.
const TIMEOUT_MS = 3000;

const urlOf = (env, name) => env[`${name.toUpperCase()}_URL`];

async function withTimeout(url, init, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

// The first provider that answers, or null with what each said.
export async function summarize(text, chain, env) {
  const tried = [];
  for (const name of chain) {
    try {
      const response = await withTimeout(`${urlOf(env, name)}/v1/summarize`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }),
      }, TIMEOUT_MS);
      if (response.ok) return { answer: { ...(await response.json()), provider: name }, tried };
      tried.push({ provider: name, status: response.status });
    } catch (err) {
      tried.push({ provider: name, error: String(err) });
    }
  }
  return { answer: null, tried };
}

export async function health(env, name) {
  const started = Date.now();
  try {
    const response = await withTimeout(`${urlOf(env, name)}/health`, {}, TIMEOUT_MS);
    return { name, healthy: response.ok, status: response.status, latencyMs: Date.now() - started };
  } catch (err) {
    return { name, healthy: false, status: null, error: String(err), latencyMs: Date.now() - started };
  }
}
