// The infrastructure platform's Worker. It knows nothing of cfw-remedy. Routes:
//   GET /health          {status, version_id, database: {name, connected, latency_ms, error}}
//   GET /                "ok"
//   GET /services        the services table of greyhaven-db (503 while the database is unreachable)
//   GET /settings/<key>  a KV flag
//   GET /origin          needs ORIGIN_URL and the ORIGIN_TOKEN secret
// /health is a liveness check that reports its dependency: it answers 200 while the Worker runs, with
// status "degraded" and database.connected false when greyhaven-db does not answer (a chosen design: a
// database outage is not a reason to roll back the Worker, and the health check must not say it is).
const DATABASE = "greyhaven-db";

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/health") return health(env);
    if (path === "/") return new Response("ok\n");
    if (path === "/services") {
      try {
        const { results } = await env.DB.prepare("SELECT name, origin FROM services ORDER BY name").all();
        return json({ services: results });
      } catch (err) {
        console.error(`database ${DATABASE} unreachable on ${path}: ${err}`);
        return json({ error: `database ${DATABASE} unreachable` }, 503);
      }
    }
    if (path.startsWith("/settings/")) {
      const value = await env.SETTINGS.get(decodeURIComponent(path.slice("/settings/".length)));
      return value === null ? new Response("not set\n", { status: 404 }) : new Response(value);
    }
    if (path === "/origin") {
      if (!env.ORIGIN_URL || !env.ORIGIN_TOKEN) return new Response("origin not configured\n", { status: 503 });
      return new Response(`would forward to ${env.ORIGIN_URL}\n`);
    }
    return new Response("not found\n", { status: 404 });
  },
};

async function health(env) {
  const started = Date.now();
  let connected = false, error = null;
  try {
    connected = (await env.DB.prepare("SELECT 1 AS ok").first("ok")) === 1;
  } catch (err) {
    error = String((err && err.message) || err);
  }
  const version = env.CF_VERSION_METADATA || {};
  return json({
    status: connected ? "healthy" : "degraded",
    version_id: version.id || "local",
    database: { name: DATABASE, connected, latency_ms: Date.now() - started, error },
  });
}
