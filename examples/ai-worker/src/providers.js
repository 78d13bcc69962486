// The AI providers: the primary, then (when enableFallbackProviders is on) the fallbacks in turn. Each is called with
// its API key from a secret (OPENAI_API_KEY, ...), where that provider reads it: Anthropic's x-api-key, the others'
// Authorization: Bearer. A 401 means the provider answers and refuses the key: the key is what to fix.
const TIMEOUT_MS = 3000;

const urlOf = (env, name) => env[`${name.toUpperCase()}_URL`];
export const keySecret = (name) => `${name.toUpperCase()}_API_KEY`;

function authHeaders(env, name) {
  const key = env[keySecret(name)] || "";
  return name === "anthropic" ? { "x-api-key": key, "anthropic-version": "2023-06-01" } : { Authorization: `Bearer ${key}` };
}

async function withTimeout(url, init, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

// What a provider's 401 says, whatever its shape (OpenAI's and Anthropic's error objects, Mistral's detail).
async function refusal(response) {
  const body = await response.json().catch(() => ({}));
  const error = body.error || {};
  return error.code || error.type || body.detail || body.message || "unauthorized";
}

// The first provider that answers, or null with what each said.
export async function summarize(text, chain, env) {
  const tried = [];
  for (const name of chain) {
    try {
      const response = await withTimeout(`${urlOf(env, name)}/v1/summarize`, {
        method: "POST", headers: { "content-type": "application/json", ...authHeaders(env, name) }, body: JSON.stringify({ text }),
      }, TIMEOUT_MS);
      if (response.ok) return { answer: { ...(await response.json()), provider: name }, tried };
      if (response.status === 401) {
        const said = await refusal(response);
        console.error(`auth: provider ${name} rejected the API key ${keySecret(name)} (401 ${said})`);
        tried.push({ provider: name, status: 401, keyRejected: keySecret(name) });
      } else {
        tried.push({ provider: name, status: response.status });
      }
    } catch (err) {
      tried.push({ provider: name, error: String(err) });
    }
  }
  return { answer: null, tried };
}

// A provider's status from its free, authenticated model list: up or not, and whether it accepts our key.
export async function health(env, name) {
  const started = Date.now();
  try {
    const response = await withTimeout(`${urlOf(env, name)}/v1/models`, { headers: authHeaders(env, name) }, TIMEOUT_MS);
    const keyAccepted = response.status !== 401;
    return { name, healthy: response.ok || !keyAccepted, status: response.status, key: keySecret(name), keyAccepted,
      ...(keyAccepted ? {} : { error: await refusal(response) }), latencyMs: Date.now() - started };
  } catch (err) {
    return { name, healthy: false, status: null, key: keySecret(name), keyAccepted: null, error: String(err),
      latencyMs: Date.now() - started };
  }
}
