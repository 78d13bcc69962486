// The sandbox's entry module, in front of a Worker's own (written by ops/sandbox/live.py beside
// the Worker's modules for `wrangler dev`; never deployed). It does three things Cloudflare does
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
import * as worker from "./__MAIN__";
export * from "./__MAIN__";

const META = __META__;
const user = worker.default;
const withVersion = (env) => {
  const extra = META.binding ? { [META.binding]: { id: META.id, tag: META.tag, timestamp: META.timestamp } } : {};
  for (const [name, url] of Object.entries(env.SANDBOX_D1 || {})) extra[name] = d1(url);
  return Object.keys(extra).length ? { ...env, ...extra } : env;
};

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
  const producer = env[(env.SANDBOX_PRODUCERS || {})[queue]];
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

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === "/__sandbox/version") return Response.json({ version_id: META.id, stamp: META.stamp });
    if (path === "/__sandbox/kv/bulk" && request.method === "POST") return kvBulk(request, env);
    const bridged = path === "/__sandbox/queues/deliver" && request.method === "POST" ? request.clone() : null;
    let response;
    let status = "success";
    try {
      response = await call("fetch", request, env, ctx);
    } catch (err) {
      status = "scriptThrewException";
      response = new Response(String((err && err.stack) || err), { status: 500, headers: { "content-type": "text/plain;charset=UTF-8" } });
    }
    if (bridged && response.status === 404) return deliver(bridged, env);
    if (response.status === 101 || response.webSocket) return response;
    response = new Response(response.body, response);
    response.headers.set("x-sandbox-version-id", META.id);
    response.headers.set("x-sandbox-invocation-status", status);
    return response;
  },
  async queue(batch, env, ctx) {
    const deadLetters = (env.SANDBOX_DLQ || {})[batch.queue];
    if (deadLetters) return deadLetter(deadLetters, batch);
    return call("queue", batch, env, ctx);
  },
  async scheduled(event, env, ctx) {
    return call("scheduled", event, env, ctx);
  },
};
