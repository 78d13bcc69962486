// The books API of the on-call runbooks, small enough to read in one sitting.
// Routes: /health, /v1/books/:isbn, /v1/providers/status, /v1/me, /metrics/cache,
// /metrics/queue, POST /admin/cache/warm, POST /admin/cache/flush.
import { lookup, providerStatus, order } from "./providers.js";
import { Metrics } from "./metrics.js";

const metrics = new Metrics();
let redriven = false; // once per isolate: see redrive()
const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

export default {
  async fetch(request, env, ctx) {
    const started = Date.now();
    if (!redriven && env.QUEUE_CONSUMER_ATTACHED === "true" && env.ENRICH_QUEUE) {
      redriven = true;
      ctx.waitUntil(redrive(env));
    }
    const response = await route(request, env).catch((err) => json({ error: String(err) }, 500));
    metrics.request(response.status);
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

async function route(request, env) {
  const url = new URL(request.url);
  const path = url.pathname;
  if (path === "/") return new Response("books-api\n");
  if (path === "/health") return health(env);
  if (path.startsWith("/v1/books/")) return book(decodeURIComponent(path.slice("/v1/books/".length)), env);
  if (path === "/v1/providers/status") return json(await providerStatus(env));
  if (path === "/v1/me") return me(request, env);
  if (path === "/metrics/cache") return json(metrics.cache(Number(url.searchParams.get("window") || 60)));
  if (path === "/metrics/requests") return json(metrics.requests(Number(url.searchParams.get("window") || 60)));
  if (path === "/metrics/queue") return json(await queueMetrics(env));
  if (path === "/admin/cache/warm" && request.method === "POST") return warm(request, env);
  if (path === "/admin/cache/flush" && request.method === "POST") return flush(request, env);
  if (path === "/__sandbox/queues/deliver" && request.method === "POST" && env.SANDBOX_PRODUCERS) return deliver(request, env);
  return json({ error: "not found" }, 404);
}

// The version comes from Cloudflare's version_metadata binding (wrangler.toml), as on Cloudflare.
function health(env) {
  const secrets = { CACHE_WARM_SECRET: Boolean(env.CACHE_WARM_SECRET), JWT_SECRET: Boolean(env.JWT_SECRET) };
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
  if (!found) return json({ error: "no provider answered", isbn }, 502, { "X-Cache-Status": "MISS" });
  await env.CACHE.put(`book:${isbn}`, JSON.stringify(found), { expirationTtl: 86400 });
  await enqueue(env, isbn);
  return json(found, 200, { "X-Cache-Status": "MISS", "X-Provider": found.provider });
}

async function warm(request, env) {
  if (!env.CACHE_WARM_SECRET) return json({ error: "CACHE_WARM_SECRET is not set on this Worker: warming is disabled" }, 503);
  if (request.headers.get("X-Cache-Warm-Secret") !== env.CACHE_WARM_SECRET) return json({ error: "bad secret" }, 401);
  const body = await request.json().catch(() => null);
  const keys = body && Array.isArray(body.keys) ? body.keys.filter((k) => typeof k === "string" && k) : null;
  if (!keys || keys.length > 1000) return json({ error: "send {\"keys\": [...]} with at most 1000 keys" }, 400);
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
  if (request.headers.get("X-Cache-Warm-Secret") !== env.CACHE_WARM_SECRET) return json({ error: "bad secret" }, 401);
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
  return claims ? json({ user: claims.sub }) : json({ error: "unauthorized" }, 401);
}

async function verifyHs256(token, secret) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const signature = Uint8Array.from(atob(parts[2].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
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
