// The upstream chain: providers in PROVIDER_ORDER, each tried in turn with a timeout.
const URL_VARS = { google_books: "GOOGLE_BOOKS_URL", openlibrary: "OPENLIBRARY_URL", isbndb: "ISBNDB_URL" };
const TIMEOUT_MS = 1500;

export function order(env) {
  return (env.PROVIDER_ORDER || "").split(",").map((s) => s.trim()).filter((s) => URL_VARS[s]);
}

async function fetchWithTimeout(url, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fetch(url, { signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

export async function lookup(isbn, env) {
  for (const name of order(env)) {
    try {
      const response = await fetchWithTimeout(`${env[URL_VARS[name]]}/books/${encodeURIComponent(isbn)}`, TIMEOUT_MS);
      if (response.ok) return { ...(await response.json()), provider: name };
    } catch (_) {
      // fall through to the next provider
    }
  }
  return null;
}

export async function providerStatus(env) {
  const providers = await Promise.all(Object.keys(URL_VARS).map(async (name) => {
    const started = Date.now();
    try {
      const response = await fetchWithTimeout(`${env[URL_VARS[name]]}/health`, 3000);
      return { name, healthy: response.ok, latency_ms: Date.now() - started };
    } catch (_) {
      return { name, healthy: false, latency_ms: Date.now() - started };
    }
  }));
  return { order: order(env), providers };
}
