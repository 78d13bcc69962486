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
import * as worker from "./__MAIN__";
export * from "./__MAIN__";

const META = __META__;
const user = worker.default;
const withVersion = (env) =>
  META.binding ? { ...env, [META.binding]: { id: META.id, tag: META.tag, timestamp: META.timestamp } } : env;
// The Worker's handler: an object's method takes (arg, env, ctx); a class default export (WorkerEntrypoint) is
// constructed per event with (ctx, env), as workerd does, and its method takes the arg alone.
const call = (method, arg, env, ctx) =>
  typeof user === "function" ? new user(ctx, withVersion(env))[method](arg) : user[method](arg, withVersion(env), ctx);

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
    let response;
    let status = "success";
    try {
      response = await call("fetch", request, env, ctx);
    } catch (err) {
      status = "scriptThrewException";
      response = new Response(String((err && err.stack) || err), { status: 500, headers: { "content-type": "text/plain;charset=UTF-8" } });
    }
    if (response.status === 101 || response.webSocket) return response;
    response = new Response(response.body, response);
    response.headers.set("x-sandbox-version-id", META.id);
    response.headers.set("x-sandbox-invocation-status", status);
    return response;
  },
  async queue(batch, env, ctx) {
    return call("queue", batch, env, ctx);
  },
  async scheduled(event, env, ctx) {
    return call("scheduled", event, env, ctx);
  },
};
