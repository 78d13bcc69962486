// The books API of the on-call runbooks (their `api-worker`), small enough to read in one sitting.
// Routes: /health, /v1/books/:isbn, /v1/search/title, /v1/providers/status, /v1/me, /ws/progress,
// POST /api/token/refresh, POST /api/import/csv, POST /api/scan, /api/jobs/:id (+ /retry),
// /metrics/cache, /metrics/requests, /metrics/queue, /admin/cache-metrics, POST /admin/cache/warm,
// POST /admin/cache/flush. Every error answer says what went wrong in X-Error-Code.
import { lookup, providerStatus, order } from "./providers.js";
import { Metrics } from "./metrics.js";
import * as jobs from "./jobs.js";

export { ProgressWebSocketDO, RateLimiterDO } from "./durable.js";

const metrics = new Metrics();
let redriven = false; // once per isolate: see redrive()
const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
// An error answer: its code in X-Error-Code and the body, and a console line the tail shows.
const fail = (status, code, message, headers = {}) => {
  console.warn(`${status} ${code}: ${message}`);
  return json({ error: message, code }, status, { "X-Error-Code": code, ...headers });
};
const SECRET_NAMES = ["CACHE_WARM_SECRET", "JWT_SECRET", "GEMINI_API_KEY", "ISBNDB_API_KEY", "GOOGLE_BOOKS_API_KEY"];

export default {
  async fetch(request, env, ctx) {
    const started = Date.now();
    if (!redriven && env.QUEUE_CONSUMER_ATTACHED === "true" && env.ENRICH_QUEUE) {
      redriven = true;
      ctx.waitUntil(redrive(env));
    }
    const response = await route(request, env, ctx).catch((err) => fail(500, "INTERNAL_ERROR", String(err)));
    metrics.request(response.status, response.headers.get("X-Error-Code"));
    if (response.status === 101) return response;
    response.headers.set("X-Response-Time", `${Date.now() - started}ms`);
    return response;
  },

  // Counted before the pending mark is cleared: a reload mid-batch may count a job twice
  // (it is sent again), never finish one uncounted.
  async queue(batch, env) {
    for (const message of batch.messages) {
      await new Promise((r) => setTimeout(r, 5)); // an enrichment job takes a moment
      await bump(env, "consumed", 1);
      if (message.body && message.body.id) await env.CACHE.delete(`pending:${message.body.id}`);
      message.ack();
    }
  },
};

async function route(request, env, ctx) {
  const url = new URL(request.url);
  const path = url.pathname;
  if (path === "/") return new Response("api-worker\n");
  if (path === "/health") return health(env);
  if (path.startsWith("/v1/books/")) return book(decodeURIComponent(path.slice("/v1/books/".length)), env);
  if (path === "/v1/search/title" || path.startsWith("/api/")) {
    const limited = await rateLimit(request, env);
    if (limited) return limited;
  }
  if (path === "/v1/search/title") return searchTitle(url, env);
  if (path === "/ws/progress") return progressSocket(request, url, env);
  if (path === "/api/token/refresh" && request.method === "POST") return refresh(request, env);
  if (path === "/api/import/csv" && request.method === "POST") return importCsv(request, env);
  if (path === "/api/scan" && request.method === "POST") return scan(request, env);
  if (path.startsWith("/api/jobs/")) return job(request, path.slice("/api/jobs/".length), env);
  if (path === "/admin/cache-metrics") return json({ ...metrics.cache(Number(url.searchParams.get("window") || 60)), r2: metrics.r2 });
  if (path === "/v1/providers/status") return json(await providerStatus(env));
  if (path === "/v1/me") return me(request, env);
  if (path === "/metrics/cache") return json(metrics.cache(Number(url.searchParams.get("window") || 60)));
  if (path === "/metrics/requests") return json(metrics.requests(Number(url.searchParams.get("window") || 60)));
  if (path === "/metrics/queue") return json(await queueMetrics(env));
  if (path === "/admin/cache/warm" && request.method === "POST") return warm(request, env);
  if (path === "/admin/cache/flush" && request.method === "POST") return flush(request, env);
  if (path === "/__sandbox/queues/deliver" && request.method === "POST" && env.SANDBOX_PRODUCERS) return deliver(request, env);
  return fail(404, "NOT_FOUND", `no route ${request.method} ${path}`);
}

// The version comes from Cloudflare's version_metadata binding (wrangler.toml), as on Cloudflare.
function health(env) {
  const secrets = Object.fromEntries(SECRET_NAMES.map((name) => [name, Boolean(env[name])]));
  const version = env.CF_VERSION_METADATA || {};
  return json({ status: "ok", version_id: version.id || "local", version_tag: version.tag || "", provider_order: order(env), secrets });
}

async function book(isbn, env) {
  const cached = await env.CACHE.get(`book:${isbn}`, "json");
  if (cached) {
    metrics.cacheHit(true);
    return json(cached, 200, { "X-Cache-Status": "HIT", "X-Provider": cached.provider });
  }
  metrics.cacheHit(false);
  const found = await lookup(isbn, env);
  if (!found) return fail(502, "PROVIDERS_UNAVAILABLE", `no provider answered for isbn ${isbn}`, { "X-Cache-Status": "MISS" });
  await env.CACHE.put(`book:${isbn}`, JSON.stringify(found), { expirationTtl: 86400 });
  await enqueue(env, isbn);
  return json(found, 200, { "X-Cache-Status": "MISS", "X-Provider": found.provider });
}

async function warm(request, env) {
  if (!env.CACHE_WARM_SECRET) return fail(503, "WARM_SECRET_MISSING", "CACHE_WARM_SECRET is not set on this Worker: warming is disabled");
  if (request.headers.get("X-Cache-Warm-Secret") !== env.CACHE_WARM_SECRET) return fail(401, "BAD_WARM_SECRET", "bad secret");
  const body = await request.json().catch(() => null);
  const keys = body && Array.isArray(body.isbns) ? body.isbns.filter((k) => typeof k === "string" && k) : null;
  if (!keys || keys.length > 1000) return fail(400, "BAD_WARM_BODY", "send {\"isbns\": [...]} with at most 1000 ISBNs");
  const results = await Promise.all(keys.map(async (isbn) => {
    const found = await lookup(isbn, env);
    if (!found) return isbn;
    await env.CACHE.put(`book:${isbn}`, JSON.stringify(found), { expirationTtl: 86400 });
    return null;
  }));
  const failed = results.filter(Boolean);
  return json({ warmed: keys.length - failed.length, failed: failed.length, failed_keys: failed });
}

async function flush(request, env) {
  if (request.headers.get("X-Cache-Warm-Secret") !== env.CACHE_WARM_SECRET) return fail(401, "BAD_WARM_SECRET", "bad secret");
  let cursor, deleted = 0;
  do {
    const page = await env.CACHE.list({ prefix: "book:", cursor });
    await Promise.all(page.keys.map((k) => env.CACHE.delete(k.name)));
    deleted += page.keys.length;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  metrics.resetCache();
  return json({ deleted });
}

// /v1/me accepts an HS256 JWT signed with JWT_SECRET (RFC 7519), with an unexpired `exp`.
async function me(request, env) {
  const token = (request.headers.get("Authorization") || "").replace(/^Bearer /, "");
  const claims = env.JWT_SECRET && token ? await verifyHs256(token, env.JWT_SECRET) : null;
  return claims ? json({ user: claims.sub }) : fail(401, "UNAUTHORIZED", "a valid Bearer token signed with JWT_SECRET is required");
}

// A token signed with JWT_SECRET, still valid, is exchanged for one that expires an hour from now.
async function refresh(request, env) {
  const token = (request.headers.get("Authorization") || "").replace(/^Bearer /, "");
  const claims = env.JWT_SECRET && token ? await verifyHs256(token, env.JWT_SECRET) : null;
  if (!claims) return fail(401, "TOKEN_INVALID", "send a valid Bearer token signed with JWT_SECRET to refresh it");
  return json({ token: await signHs256({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 }, env.JWT_SECRET) });
}

async function signHs256(claims, secret) {
  const b64 = (text) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const body = `${b64(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64(JSON.stringify(claims))}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return `${body}.${b64(String.fromCharCode(...signature))}`;
}

// RateLimiterDO counts each client's requests a minute (RATE_LIMIT_PER_MINUTE, default 600).
async function rateLimit(request, env) {
  if (!env.RATE_LIMITER) return null;
  const client = request.headers.get("CF-Connecting-IP") || "anonymous";
  const limit = Number(env.RATE_LIMIT_PER_MINUTE || 600);
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(client));
  const verdict = await (await stub.fetch("https://limiter/check", { method: "POST", body: JSON.stringify({ limit }) })).json();
  if (verdict.allowed) return null;
  return fail(429, "RATE_LIMITED", `client ${client} made ${verdict.count} requests this minute (limit ${limit}, RateLimiterDO)`,
    { "Retry-After": String(verdict.retry_after) });
}

// `q` is the title; v1 clients send `title`, accepted while ENABLE_V1_COMPAT is "true".
// Results are kept in the cold tier (R2 API_CACHE_COLD); their authors go to the author-warming queue.
async function searchTitle(url, env) {
  let q = url.searchParams.get("q");
  const legacy = url.searchParams.get("title");
  if (!q && legacy !== null) {
    if (env.ENABLE_V1_COMPAT !== "true") {
      return fail(400, "V1_COMPAT_DISABLED", "the v1 parameter `title` is refused: send `q` (ENABLE_V1_COMPAT is not \"true\")");
    }
    q = legacy;
  }
  if (!q) return fail(400, "MISSING_QUERY", "send the title as ?q=");
  const key = `search/title/${encodeURIComponent(q.toLowerCase())}.json`;
  const cold = env.API_CACHE_COLD ? await env.API_CACHE_COLD.get(key).catch(() => null) : null;
  if (cold) return json(await cold.json(), 200, { "X-Cache-Status": "COLD" });
  const found = await lookup(q, env);
  if (!found) return fail(502, "PROVIDERS_UNAVAILABLE", `no provider answered the title search ${JSON.stringify(q)}`);
  const result = { q, results: [found] };
  await coldWrite(env, key, result);
  if (env.AUTHOR_WARMING_QUEUE) await env.AUTHOR_WARMING_QUEUE.send({ authors: found.authors || [], at: Date.now() });
  return json(result, 200, { "X-Cache-Status": "MISS", "X-Provider": found.provider });
}

async function coldWrite(env, key, value) {
  try {
    await env.API_CACHE_COLD.put(key, JSON.stringify(value), { httpMetadata: { contentType: "application/json" } });
    metrics.r2Write(null);
  } catch (err) {
    metrics.r2Write(err);
    console.error(`R2 API_CACHE_COLD put ${key} failed: ${err}`);
  }
}

function progressSocket(request, url, env) {
  const id = url.searchParams.get("jobId");
  if (!id) return fail(400, "MISSING_JOB_ID", "send ?jobId=");
  if (request.headers.get("Upgrade") !== "websocket") return fail(426, "WEBSOCKET_REQUIRED", "/ws/progress is a WebSocket");
  return env.PROGRESS.get(env.PROGRESS.idFromName(id)).fetch(request);
}

async function importCsv(request, env) {
  const isbns = jobs.csvIsbns(await request.text());
  if (!isbns.length) return fail(400, "EMPTY_CSV", "the CSV has no ISBN in its first column");
  const progress = await jobs.start(env, "csv-import", isbns);
  return json(progress, 202);
}

// A bookshelf scan: Gemini reads the photo. The sandbox has no Gemini: the body's `isbns` stand for
// what it would read, and the key must be there all the same.
async function scan(request, env) {
  if (!env.GEMINI_API_KEY) return fail(503, "GEMINI_API_KEY_MISSING", "GEMINI_API_KEY is not set on this Worker: scans are disabled");
  const body = await request.json().catch(() => null);
  const isbns = body && Array.isArray(body.isbns) ? body.isbns.filter((k) => typeof k === "string" && k) : [];
  if (!isbns.length) return fail(400, "EMPTY_SCAN", "nothing was read from the photo");
  return json(await jobs.start(env, "scan", isbns), 202);
}

async function job(request, rest, env) {
  const [id, action] = rest.split("/");
  const progress = await jobs.load(env, id);
  if (!progress) return fail(404, "JOB_NOT_FOUND", `no job ${id}`);
  if (action === "retry" && request.method === "POST") {
    if (progress.status !== "stalled") return fail(409, "JOB_NOT_STALLED", `job ${id} is ${progress.status}`);
    return json(await jobs.run(env, { ...progress, status: "running" }, progress.row), 202);
  }
  console.log(`[${progress.kind}] job ${id} is ${progress.status}: ${progress.done} of ${progress.isbns.length} rows`);
  if (progress.status === "stalled") console.warn(`[${progress.kind}] job ${id} is stalled at row ${progress.row}: ${progress.error}`);
  return json(progress);
}

async function verifyHs256(token, secret) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  let signature;
  try {
    signature = Uint8Array.from(atob(parts[2].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {
    return null; // not base64url: not a token
  }
  const valid = await crypto.subtle.verify("HMAC", key, signature, new TextEncoder().encode(`${parts[0]}.${parts[1]}`));
  if (!valid) return null;
  try {
    const header = JSON.parse(atob(parts[0].replace(/-/g, "+").replace(/_/g, "/")));
    const claims = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (header.alg !== "HS256" || typeof claims.sub !== "string") return null;
    if (typeof claims.exp === "number" && claims.exp < Date.now() / 1000) return null;
    return claims;
  } catch {
    return null;
  }
}

// Each job is also recorded as pending in KV until its consumer acks it. Cloudflare keeps
// undelivered messages while a queue has no consumer; the local runtime drops them when it
// reloads, so the sandbox Worker re-sends its pending jobs once a consumer is attached again.
async function enqueue(env, isbn) {
  if (!env.ENRICH_QUEUE) return;
  const id = crypto.randomUUID();
  await env.CACHE.put(`pending:${id}`, isbn, { expirationTtl: 4 * 86400 });
  await env.ENRICH_QUEUE.send({ id, isbn, at: Date.now() });
  await bump(env, "produced", 1);
}

// The sandbox's control plane hands over messages pushed through the Queues API (for
// example a dead-letter replay); on Cloudflare they would reach queue() directly.
async function deliver(request, env) {
  const { queue, messages } = await request.json();
  const producer = env[(env.SANDBOX_PRODUCERS || {})[queue]];
  if (!producer) return json({ error: `no producer binding for ${queue}` }, 404);
  for (const message of messages) {
    const body = message.content_type === "json" ? JSON.parse(message.body) : { id: crypto.randomUUID(), isbn: message.body };
    const id = body.id || crypto.randomUUID();
    await env.CACHE.put(`pending:${id}`, body.isbn || "", { expirationTtl: 4 * 86400 });
    await producer.send({ ...body, id });
  }
  await bump(env, "delivered", messages.length);
  return json({ delivered: messages.length });
}

async function pendingKeys(env) {
  const names = [];
  let cursor;
  do {
    const page = await env.CACHE.list({ prefix: "pending:", cursor });
    names.push(...page.keys.map((k) => k.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return names;
}

async function redrive(env) {
  for (const name of await pendingKeys(env)) {
    const isbn = await env.CACHE.get(name);
    if (isbn !== null) await env.ENRICH_QUEUE.send({ id: name.slice("pending:".length), isbn, at: Date.now(), redriven: true });
  }
}

// Queue counters live in KV so they survive the reloads that follow each deploy.
async function bump(env, name, by) {
  const key = `metrics:queue:${name}`;
  const now = Number((await env.CACHE.get(key)) || 0);
  await env.CACHE.put(key, String(now + by));
}

async function queueMetrics(env) {
  const produced = Number((await env.CACHE.get("metrics:queue:produced")) || 0);
  const consumed = Number((await env.CACHE.get("metrics:queue:consumed")) || 0);
  const delivered = Number((await env.CACHE.get("metrics:queue:delivered")) || 0);
  const backlog = (await pendingKeys(env)).length;
  return { produced, consumed, delivered, backlog, consumer_attached: env.QUEUE_CONSUMER_ATTACHED === "true" };
}
