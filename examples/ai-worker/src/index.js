// The AI-enhanced Worker of the on-call runbooks, small enough to read in one sitting.
// Routes: POST / {prompt} (the runbook's AI endpoint), /health, /providers/status, POST|GET /ai/summarize,
// /cache/status, GET|PUT|POST|PATCH /config, POST /config/validate, /diagnostics, /memory, /debug,
// /trace?id=, /metrics/requests, POST /admin/cache/warm, POST /admin/cache/flush.
import { readConfig, writeConfig, fallbacks } from "./config.js";
import { summarize, health as providerHealth } from "./providers.js";

const MEMORY_LIMIT_BYTES = 128 * 1024 * 1024; // a Worker isolate's limit
let startedAt = null; // set on the first request: time does not advance in a Worker's global scope
const counts = { hits: 0, misses: 0 };
const outcomes = []; // [time, status] of AI requests, for /metrics/requests
const traces = new Map(); // request id -> what it asked and what answered, while debug tracing is on (KV setting)

const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

export default {
  async fetch(request, env) {
    startedAt ??= Date.now();
    const response = await route(request, env).catch((err) => json({ error: String(err) }, 500));
    const path = new URL(request.url).pathname;
    if (path.startsWith("/ai/") || (path === "/" && request.method === "POST")) {
      outcomes.push([Date.now(), response.status]);
      if (outcomes.length > 100000) outcomes.splice(0, 50000);
    }
    return response;
  },
};

async function route(request, env) {
  const url = new URL(request.url);
  const path = url.pathname;
  if (path === "/" && request.method === "POST") {
    const body = await request.json().catch(() => null);
    return answer(body && body.prompt, env, true, request.headers.get("cf-ray") || crypto.randomUUID());
  }
  if (path === "/health") return health(env);
  if (path === "/diagnostics") return json(await diagnostics(env));
  if (path === "/memory") return json(memory());
  if (path === "/debug") return json(await debug(env));
  if (path === "/trace") return trace(url.searchParams.get("id"));
  if (path === "/config/validate" && request.method === "POST") return validate(request, env);
  if (path === "/providers/status") return json(await providerStatus(env));
  if (path === "/ai/summarize" && request.method === "POST") {
    const body = await request.json().catch(() => null);
    return answer(body && body.text, env);
  }
  if (path === "/ai/summarize" && request.method === "GET") return answer(url.searchParams.get("text"), env);
  if (path === "/cache/status") return json(await cacheStatus(env));
  if (path === "/config" && request.method === "GET") return json(await readConfig(env));
  if (path === "/config" && ["PUT", "POST", "PATCH"].includes(request.method)) return putConfig(request, env);
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
    memoryUsage: memory(),
  });
}

// What this isolate holds that grows with traffic: the request outcomes and the debug traces. A Worker cannot
// read its isolate's heap; this is its own account of what it keeps (the runbook's "memory above 80%").
function memory() {
  let traced = 0;
  for (const t of traces.values()) traced += t.bytes;
  const used = outcomes.length * 16 + traced;
  return { trackedBytes: used, limitBytes: MEMORY_LIMIT_BYTES, percent: Math.round((used / MEMORY_LIMIT_BYTES) * 1000) / 10,
    traces: traces.size };
}

// The oldest traces go first when more are kept than the traceCacheSize setting allows (the runbook's cache size).
function trimTraces(kept) {
  while (traces.size > kept) traces.delete(traces.keys().next().value);
}

async function debug(env) {
  const config = await readConfig(env);
  return { debugTrace: config.debugTrace, traces: traces.size, tracesKept: config.traceCacheSize, version: env.VERSION,
    primaryProvider: config.primaryProvider, fallbackProviders: config.fallbackProviders };
}

function trace(id) {
  if (!id) return json({ ids: [...traces.keys()].slice(-50) });
  const found = traces.get(id);
  return found ? json(found) : json({ error: `no trace ${id} (is debugTrace on?)` }, 404);
}

async function diagnostics(env) {
  const [providers, cache, config] = await Promise.all([providerStatus(env), cacheStatus(env), readConfig(env)]);
  return { version: env.VERSION, uptime: Math.round((Date.now() - startedAt) / 1000), config, providers, cache,
    memory: memory(), requests: requests(300) };
}

async function validate(request, env) {
  const change = await request.json().catch(() => null);
  const { problems } = await writeConfig(env, change, { dryRun: true });
  return json({ valid: !problems, problems: problems || [] }, problems ? 400 : 200);
}

async function providerStatus(env) {
  const config = await readConfig(env);
  const [primary, ...others] = await Promise.all([env.AI_PRIMARY_PROVIDER, ...fallbacks(env)].map((n) => providerHealth(env, n)));
  const usable = [primary, ...(config.enableFallbackProviders ? others : [])].filter((p) => p.healthy && p.keyAccepted);
  return {
    primary,
    fallbacks: others,
    enableFallbackProviders: config.enableFallbackProviders,
    serving: usable.length ? usable[0].name : null, // who would answer an uncached request now
    rejectedKeys: [primary, ...others].filter((p) => p.keyAccepted === false).map((p) => p.key), // secrets to rotate
  };
}

// `counted`: a user's question counts toward the hit rate; a warm request does not. `traceId`: kept in the debug
// traces while the debugTrace setting is on.
async function answer(text, env, counted = true, traceId = null) {
  if (typeof text !== "string" || !text) return json({ error: "send {\"prompt\": \"...\"} to POST / (or {\"text\"} to /ai/summarize)" }, 400);
  const response = await answered(text, env, counted);
  if (traceId && (await readConfig(env)).debugTrace) {
    const body = await response.clone().text();
    traces.set(traceId, { prompt: text, status: response.status, answer: body, bytes: 2 * (text.length + body.length) });
    trimTraces((await readConfig(env)).traceCacheSize);
  }
  return response;
}

async function answered(text, env, counted) {
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
  if (problems) return json({ error: problems.join("; ") }, 400);
  trimTraces(config.traceCacheSize);
  return json(config);
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
