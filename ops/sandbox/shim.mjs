// The sandbox's entry module, in front of a Worker's own (written by ops/sandbox/live.py beside
// the Worker's modules for `wrangler dev`; never deployed). It does what Cloudflare does
// outside the Worker's code, and nothing else:
//  - version_metadata: `wrangler dev` gives the binding a random id of its own, not the id of the
//    version the (emulated) control plane deployed; the shim hands the Worker the control plane's
//    id, tag and timestamp under the binding's own name, so the Worker reads them as on Cloudflare.
//  - analytics: it tells the recording proxy which version answered and whether the invocation
//    threw (`wrangler dev` answers an uncaught exception with a bare 500, like any other 500),
//    in two response headers the proxy removes.
//  - KV bridge: KV pairs written through the sandbox's API land in the namespace the Worker binds.
//  - D1 bridge: a D1 binding is a facade over the emulator's D1 (real SQLite, the database the D1
//    API answers from), so the Worker and `wrangler d1 execute --remote` see the same rows.
//  - queue bridge: messages pushed through the Queues API reach the Worker's producer binding
//    (unless the Worker's own fetch takes /__sandbox/queues/deliver, as the books Worker does);
//    jobs that failed their retries reach the emulator's dead-letter queue (SANDBOX_DLQ).
//  - cron triggers on demand: GET /__scheduled?cron=… runs the Worker's scheduled handler.
//  - queue backlog (sandbox only): the emulator cannot see `wrangler dev`'s local queues, so the shim
//    reports what the Worker sends through its producer bindings and what its consumer settles
//    (SANDBOX_QUEUE_LOCAL); the emulator answers Cloudflare's queue backlog dataset with it
//    (ops/sandbox/emulator/graphql_queues.py).
//  - console: what the Worker logs while it handles a request goes back with that request's answer, in a
//    header the proxy removes (CONSOLE_HEADER), and from there into its tail event as Cloudflare puts it:
//    AsyncLocalStorage keeps concurrent requests' lines apart, and wrangler's own output is never read.
import { AsyncLocalStorage } from "node:async_hooks";
import * as worker from "./__MAIN__";
export * from "./__MAIN__";

const META = __META__;
const CONSOLE_HEADER = "x-sandbox-console";
const CONSOLE_MAX_BYTES = 6000; // what fits a response header; past it the event says truncated, as Cloudflare's does
const consoleLines = new AsyncLocalStorage();
const loggable = (value) => {
  if (typeof value === "string") return value;
  if (value instanceof Error) return String(value.stack || value);
  try { return JSON.parse(JSON.stringify(value)) ?? String(value); } catch { return String(value); }
};
for (const level of ["debug", "info", "log", "warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    const lines = consoleLines.getStore();
    if (lines) lines.push({ message: args.map(loggable), level, timestamp: Date.now() });
    original(...args);
  };
}
// The lines as a header value (base64 of UTF-8 JSON), the newest dropped past the limit.
const consoleHeader = (lines) => {
  const encode = (kept) => {
    let binary = "";
    for (const byte of new TextEncoder().encode(JSON.stringify(kept))) binary += String.fromCharCode(byte);
    return btoa(binary);
  };
  let kept = lines.slice(), value = encode({ logs: kept, truncated: false });
  while (value.length > CONSOLE_MAX_BYTES && kept.length) {
    kept = kept.slice(0, -1);
    value = encode({ logs: kept, truncated: true });
  }
  return value;
};
const user = worker.default;
const withVersion = (env) => {
  const extra = META.binding ? { [META.binding]: { id: META.id, tag: META.tag, timestamp: META.timestamp } } : {};
  for (const [name, url] of Object.entries(env.SANDBOX_D1 || {})) extra[name] = d1(url);
  for (const [queue, name] of Object.entries(env.SANDBOX_PRODUCERS || {})) {
    if (env[name] && env.SANDBOX_QUEUE_LOCAL) extra[name] = counted(env, queue, env[name]);
  }
  return Object.keys(extra).length ? { ...env, ...extra } : env;
};

// Sandbox only: tell the emulator what the Worker's local queue gained or settled.
async function reportLocal(env, queue, counts) {
  if (!env.SANDBOX_QUEUE_LOCAL) return;
  try {
    await fetch(`${env.SANDBOX_QUEUE_LOCAL}/${queue}/local`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ script: META.script, ...counts }) });
  } catch (err) {
    console.warn(`sandbox: the emulator did not take the local queue count of ${queue}: ${err}`);
  }
}

const size = (body) => (typeof body === "string" ? body : JSON.stringify(body) || "").length;

// A producer binding that reports each message it sends.
function counted(env, queue, producer) {
  return {
    async send(body, options) {
      await producer.send(body, options);
      await reportLocal(env, queue, { sent: 1, sent_bytes: size(body) });
    },
    async sendBatch(messages, options) {
      await producer.sendBatch(messages, options);
      await reportLocal(env, queue, { sent: messages.length, sent_bytes: messages.reduce((n, m) => n + size(m.body), 0) });
    },
  };
}

// The batch the Worker's queue() sees, keeping track of which messages it acks or retries.
function tracked(batch) {
  const acked = new Set(), retried = new Set();
  let all = null;
  const messages = batch.messages.map((m) => ({
    get id() { return m.id; }, get timestamp() { return m.timestamp; }, get body() { return m.body; },
    get attempts() { return m.attempts; },
    ack() { acked.add(m.id); m.ack(); },
    retry(options) { retried.add(m.id); m.retry(options); },
  }));
  const view = { queue: batch.queue, messages,
    ackAll() { all = "ack"; batch.ackAll(); }, retryAll(options) { all = "retry"; batch.retryAll(options); } };
  // A message is settled when acked, explicitly or implicitly (the handler returned without retrying it).
  const settled = (threw) => batch.messages.filter((m) =>
    !retried.has(m.id) && (acked.has(m.id) || all === "ack" || (all === null && !threw)));
  return { view, settled };
}

// The D1 binding's API (prepare/bind/first/all/run/raw, batch, exec) over the emulator's D1 bridge.
function d1(url) {
  const query = async (statements) => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ batch: statements.map((s) => ({ sql: s.sql, params: s.params })) }) });
    const body = await response.json();
    if (!response.ok) throw new Error(`D1_ERROR: ${body.error || response.status}`);
    return body.results;
  };
  class Statement {
    constructor(sql, params = []) { this.sql = sql; this.params = params; }
    bind(...params) { return new Statement(this.sql, params); }
    async all() { return (await query([this]))[0]; }
    async run() { return this.all(); }
    async first(column) {
      const row = (await this.all()).results[0];
      return row === undefined ? null : column === undefined ? row : row[column];
    }
    async raw() { return (await this.all()).results.map((row) => Object.values(row)); }
  }
  return {
    prepare: (sql) => new Statement(sql),
    batch: (statements) => query(statements),
    exec: async (sql) => ({ count: (await query([new Statement(sql)])).length, duration: 0 }),
  };
}

// The Worker's handler: an object's method takes (arg, env, ctx); a class default export (WorkerEntrypoint) is
// constructed per event with (ctx, env), as workerd does, and its method takes the arg alone.
const call = (method, arg, env, ctx) =>
  typeof user === "function" ? new user(ctx, withVersion(env))[method](arg) : user[method](arg, withVersion(env), ctx);

async function deadLetter(url, batch) {
  const messages = batch.messages.map((m) =>
    typeof m.body === "string" ? { body: m.body, content_type: "text" } : { body: m.body, content_type: "json" });
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages }) });
  if (!response.ok) throw new Error(`sandbox: the emulator took no dead letters (${response.status})`);
  batch.ackAll();
}

async function deliver(request, env) {
  const { queue, messages } = await request.json();
  const producer = withVersion(env)[(env.SANDBOX_PRODUCERS || {})[queue]];
  if (!producer) return Response.json({ error: `no producer binding for ${queue}` }, { status: 404 });
  for (const m of messages) await producer.send(m.content_type === "json" ? JSON.parse(m.body) : m.body);
  return Response.json({ delivered: messages.length });
}

async function kvBulk(request, env) {
  const { namespace_id, pairs } = await request.json();
  const kv = env[(env.SANDBOX_KV || {})[namespace_id]];
  if (!kv) return Response.json({ error: `no KV binding for ${namespace_id}` }, { status: 404 });
  const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  await Promise.all(pairs.map((p) => kv.put(p.key, p.base64 ? bytes(p.value) : p.value,
    p.expiration_ttl ? { expirationTtl: p.expiration_ttl } : {})));
  return Response.json({ written: pairs.length });
}

// A cron trigger on demand, as `wrangler dev --test-scheduled` offers it (wrangler's templates/middleware/
// middleware-scheduled.ts), which a no_bundle Worker does not get: GET /__scheduled?cron=… runs scheduled().
async function scheduledNow(request, env, ctx) {
  const cron = new URL(request.url).searchParams.get("cron") ?? "";
  await call("scheduled", { type: "scheduled", cron, scheduledTime: Date.now(), noRetry() {} }, env, ctx);
  return new Response("Ran scheduled event");
}

// Whether anything has reached this isolate since it started (a reset keeps a wrangler dev that nothing touched):
// every invocation counts, the follower's look at /__sandbox/version does not. The isolate's id is drawn at its first
// request: the runtime allows no random values in global scope.
let boot = null;
let handled = 0;

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    boot ??= crypto.randomUUID();
    if (path === "/__sandbox/version") {
      return Response.json({ version_id: META.id, stamp: META.stamp, boot, handled });
    }
    handled++;
    if (path === "/__sandbox/kv/bulk" && request.method === "POST") return kvBulk(request, env);
    if (path === "/__scheduled") return scheduledNow(request, env, ctx);
    const bridged = path === "/__sandbox/queues/deliver" && request.method === "POST" ? request.clone() : null;
    let response;
    let status = "success";
    const lines = [];
    try {
      response = await consoleLines.run(lines, () => call("fetch", request, env, ctx));
    } catch (err) {
      status = "scriptThrewException";
      response = new Response(String((err && err.stack) || err), { status: 500, headers: { "content-type": "text/plain;charset=UTF-8" } });
    }
    if (bridged && response.status === 404) return deliver(bridged, env);
    if (response.status === 101 || response.webSocket) return response;
    response = new Response(response.body, response);
    response.headers.set("x-sandbox-version-id", META.id);
    response.headers.set("x-sandbox-invocation-status", status);
    if (lines.length) response.headers.set(CONSOLE_HEADER, consoleHeader(lines));
    return response;
  },
  async queue(batch, env, ctx) {
    handled++;
    const deadLetters = (env.SANDBOX_DLQ || {})[batch.queue];
    if (deadLetters) return deadLetter(deadLetters, batch);
    if (!env.SANDBOX_QUEUE_LOCAL) return call("queue", batch, env, ctx);
    const { view, settled } = tracked(batch);
    let failure = null;
    try {
      await call("queue", view, env, ctx);
    } catch (err) {
      failure = err;
    }
    const done = settled(failure !== null);
    await reportLocal(env, batch.queue, { settled: done.length, settled_bytes: done.reduce((n, m) => n + size(m.body), 0) });
    if (failure !== null) throw failure;
  },
  async scheduled(event, env, ctx) {
    handled++;
    return call("scheduled", event, env, ctx);
  },
};
