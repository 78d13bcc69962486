// The manuscript API of the on-call runbooks. Routes:
//   POST /auth/login                  {email, password} -> {token, expires_in} (HS256, JWT_SECRET)
//   GET  /manuscripts                 the caller's manuscripts (Bearer token; 401 without one)
//   GET  /manuscripts/:id             one manuscript with its analysis
//   POST /manuscripts/:id/analyze     queue an analysis job (202)
//   GET  /metrics/queue               {backlog: manuscripts waiting for analysis, consumer_attached}
// No /health: an unauthenticated GET /manuscripts answering 401 is this Worker's health contract.
import { SESSION_SECONDS, checkPassword, signSession, verifySession } from "./auth.js";

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const MANUSCRIPT = /^\/manuscripts\/(\d+)(\/analyze)?$/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/auth/login" && request.method === "POST") return login(request, env);
    if (path === "/metrics/queue") return json(await queueMetrics(env));
    const user = await caller(request, env);
    if (path === "/manuscripts" && request.method === "GET") {
      if (!user) return unauthorized();
      const { results } = await env.DB.prepare(
        "SELECT id, title, analysis_status, word_count FROM manuscripts WHERE owner_id = ? ORDER BY id").bind(user.id).all();
      return json({ manuscripts: results });
    }
    const match = MANUSCRIPT.exec(path);
    if (match) {
      if (!user) return unauthorized();
      const manuscript = await env.DB.prepare("SELECT * FROM manuscripts WHERE id = ? AND owner_id = ?")
        .bind(Number(match[1]), user.id).first();
      if (!manuscript) return json({ error: "no such manuscript" }, 404);
      if (!match[2] && request.method === "GET") return json(manuscript);
      if (match[2] && request.method === "POST") return analyze(manuscript, env);
    }
    return json({ error: "not found" }, 404);
  },

  // An analysis job: count the words and store the result. A job that throws is retried by the
  // queue and, after max_retries, sent to the dead-letter queue (wrangler.toml).
  async queue(batch, env) {
    for (const message of batch.messages) {
      const id = Number(message.body && message.body.manuscript_id);
      const manuscript = await env.DB.prepare("SELECT id, body FROM manuscripts WHERE id = ?").bind(id).first();
      if (!manuscript) throw new Error(`analysis job for manuscript ${id}, which does not exist`);
      const words = manuscript.body.split(/\s+/).filter(Boolean).length;
      await env.DB.prepare("UPDATE manuscripts SET analysis_status = 'done', word_count = ?, analyzed_at = ? WHERE id = ?")
        .bind(words, new Date().toISOString(), id).run();
      message.ack();
    }
  },
};

const unauthorized = () => json({ error: "unauthorized" }, 401);

async function caller(request, env) {
  const header = request.headers.get("Authorization") || "";
  if (!header.startsWith("Bearer ")) return null;
  const claims = await verifySession(env.JWT_SECRET, header.slice("Bearer ".length));
  return claims ? { id: Number(claims.sub), email: claims.email } : null;
}

async function login(request, env) {
  if (!env.JWT_SECRET) return json({ error: "JWT_SECRET is not set on this Worker: logins are disabled" }, 503);
  const body = await request.json().catch(() => null);
  if (!body || typeof body.email !== "string" || typeof body.password !== "string") {
    return json({ error: "send {\"email\": ..., \"password\": ...}" }, 400);
  }
  const user = await env.DB.prepare("SELECT id, email, password_hash FROM users WHERE email = ?").bind(body.email).first();
  if (!user || !(await checkPassword(body.password, user.password_hash))) return json({ error: "wrong email or password" }, 401);
  const now = Math.floor(Date.now() / 1000);
  const token = await signSession(env.JWT_SECRET, { sub: String(user.id), email: user.email, iat: now, exp: now + SESSION_SECONDS });
  return json({ token, token_type: "Bearer", expires_in: SESSION_SECONDS });
}

async function analyze(manuscript, env) {
  await env.DB.prepare("UPDATE manuscripts SET analysis_status = 'queued' WHERE id = ?").bind(manuscript.id).run();
  await env.ANALYSIS_QUEUE.send({ manuscript_id: manuscript.id, requested_at: Date.now() });
  return json({ queued: manuscript.id }, 202);
}

// What the queue-redeploy remediation reads: manuscripts still waiting for their analysis.
// consumer_attached is set by the platform that deploys this Worker (the sandbox sets it from the
// control plane's queue consumer); without it the Worker assumes it consumes its queue.
async function queueMetrics(env) {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM manuscripts WHERE analysis_status = 'queued'").first();
  return { backlog: row ? row.n : 0, consumer_attached: env.QUEUE_CONSUMER_ATTACHED !== "false" };
}
