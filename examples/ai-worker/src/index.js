// The AI-enhanced Worker of the on-call runbooks, small enough to read in one sitting.
// Routes: /health, /providers/status, POST|GET /ai/summarize, /cache/status, GET|PUT /config,
// /metrics/requests, POST /admin/cache/warm, POST /admin/cache/flush.
import { readConfig, writeConfig, fallbacks } from "./config.js";
import { summarize, health as providerHealth } from "./providers.js";

const MEMORY_LIMIT_BYTES = 128 * 1024 * 1024; // a Worker isolate's limit
let startedAt = null; // set on the first request: time does not advance in a Worker's global scope
const counts = { hits: 0, misses: 0 };
const outcomes = []; // [time, status] of /ai/ requests, for /metrics/requests

const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

export default {
  async fetch(request, env) {
    startedAt ??= Date.now();
    const response = await route(request, env).catch((err) => json({ error: String(err) }, 500));
    if (new URL(request.url).pathname.startsWith("/ai/")) {
      outcomes.push([Date.now(), response.status]);
      if (outcomes.length > 100000) outcomes.splice(0, 50000);
    }
    return response;
  },
};

async function route(request, env) {
  const url = new URL(request.url);
  const path = url.pathname;
  if (path === "/health") return health(env);
  if (path === "/providers/status") return json(await providerStatus(env));
  if (path === "/ai/summarize" && request.method === "POST") {
    const body = await request.json().catch(() => null);
    return answer(body && body.text, env);
  }
  if (path === "/ai/summarize" && request.method === "GET") return answer(url.searchParams.get("text"), env);
  if (path === "/cache/status") return json(await cacheStatus(env));
  if (path === "/config" && request.method === "GET") return json(await readConfig(env));
  if (path === "/config" && request.method === "PUT") return putConfig(request, env);
  if (path === "/metrics/requests") return json(requests(Number(url.searchParams.get("window") || 60)));
  if (path === "/admin/cache/warm" && request.method === "POST") return warm(request, env);
  if (path === "/admin/cache/flush" && request.method === "POST") return flush(request, env);
  return json({ error: "not found" }, 404);
}

function health(env) {
  const version = env.CF_VERSION_METADATA || {};
  return json({
    status: "healthy",
    version: env.VERSION,
    version_id: version.id || "local",
    uptime: Math.round((Date.now() - startedAt) / 1000),
    memoryUsage: { trackedBytes: outcomes.length * 16, limitBytes: MEMORY_LIMIT_BYTES },
  });
}

async function providerStatus(env) {
  const config = await readConfig(env);
  const [primary, ...others] = await Promise.all([env.AI_PRIMARY_PROVIDER, ...fallbacks(env)].map((n) => providerHealth(env, n)));
  const usable = [primary, ...(config.enableFallbackProviders ? others : [])].filter((p) => p.healthy);
  return {
    primary,
    fallbacks: others,
    enableFallbackProviders: config.enableFallbackProviders,
    serving: usable.length ? usable[0].name : null, // who would answer an uncached request now
  };
}

// `counted`: a user's question counts toward the hit rate; a warm request does not.
async function answer(text, env, counted = true) {
  if (typeof text !== "string" || !text) return json({ error: "send {\"text\": \"...\"} (or ?text=)" }, 400);
  const key = `summary:${await digest(text)}`;
  const cached = await env.CACHE.get(key, "json");
  if (cached) {
    if (counted) counts.hits++;
    return json(cached, 200, { "X-Cache-Status": "HIT", "X-Provider": cached.provider });
  }
  if (counted) counts.misses++;
  const config = await readConfig(env);
  const chain = [config.primaryProvider, ...(config.enableFallbackProviders ? config.fallbackProviders : [])];
  const { answer: found, tried } = await summarize(text, chain, env);
  if (!found) {
    return json({ error: "no AI provider answered", tried, enableFallbackProviders: config.enableFallbackProviders }, 502,
      { "X-Cache-Status": "MISS" });
  }
  await env.CACHE.put(key, JSON.stringify(found), { expirationTtl: config.cacheTtlSeconds });
  return json(found, 200, { "X-Cache-Status": "MISS", "X-Provider": found.provider });
}

async function cacheStatus(env) {
  const config = await readConfig(env);
  const page = await env.CACHE.list({ prefix: "summary:", limit: 1000 });
  const asked = counts.hits + counts.misses;
  return {
    entries: page.keys.length,
    entriesTruncated: !page.list_complete,
    ttlSeconds: config.cacheTtlSeconds,
    hits: counts.hits,
    misses: counts.misses,
    hitRate: asked ? counts.hits / asked : null,
  };
}

async function putConfig(request, env) {
  if (!env.ADMIN_SECRET) return json({ error: "ADMIN_SECRET is not set on this Worker: the config cannot be changed" }, 503);
  if (request.headers.get("Authorization") !== `Bearer ${env.ADMIN_SECRET}`) return json({ error: "unauthorized" }, 401);
  const { problems, config } = await writeConfig(env, await request.json().catch(() => null));
  return problems ? json({ error: problems.join("; ") }, 400) : json(config);
}

function requests(windowSeconds) {
  const since = Date.now() - windowSeconds * 1000;
  const recent = outcomes.filter(([t]) => t >= since);
  const errors = recent.filter(([, s]) => s >= 500).length;
  return { window_s: windowSeconds, total: recent.length, errors, error_rate: recent.length ? errors / recent.length : 0 };
}

// The cache-warm contract (inv remediate.cache-warm): {"keys": [...]} behind X-Cache-Warm-Secret; a key is a text.
async function warm(request, env) {
  if (!env.CACHE_WARM_SECRET) return json({ error: "CACHE_WARM_SECRET is not set on this Worker: warming is disabled" }, 503);
  if (request.headers.get("X-Cache-Warm-Secret") !== env.CACHE_WARM_SECRET) return json({ error: "bad secret" }, 401);
  const body = await request.json().catch(() => null);
  const keys = body && Array.isArray(body.keys) ? body.keys.filter((k) => typeof k === "string" && k) : null;
  if (!keys || keys.length > 1000) return json({ error: "send {\"keys\": [...]} with at most 1000 keys" }, 400);
  const failed = [];
  for (const text of keys) {
    if ((await answer(text, env, false)).status !== 200) failed.push(text);
  }
  return json({ warmed: keys.length - failed.length, failed: failed.length, failed_keys: failed });
}

// Empties the answer cache and its counts (what a cache purge or a KV namespace change does).
async function flush(request, env) {
  if (!env.CACHE_WARM_SECRET) return json({ error: "CACHE_WARM_SECRET is not set on this Worker: flushing is disabled" }, 503);
  if (request.headers.get("X-Cache-Warm-Secret") !== env.CACHE_WARM_SECRET) return json({ error: "bad secret" }, 401);
  let cursor, deleted = 0;
  do {
    const page = await env.CACHE.list({ prefix: "summary:", cursor });
    await Promise.all(page.keys.map((k) => env.CACHE.delete(k.name)));
    deleted += page.keys.length;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  counts.hits = 0;
  counts.misses = 0;
  return json({ deleted });
}

async function digest(text) {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
