// The manuscript upload API of the on-call runbooks. Routes:
//   POST /auth/register               {email, password} -> 201; a verification link is logged for the mail service
//   GET  /auth/verify?token=          sets email_verified (verification_tokens)
//   POST /auth/login                  {email, password} -> {token, expires_in} (HS256, JWT_SECRET; session in KV)
//   POST /auth/logout                 ends the session (deletes it from KV)
//   GET  /manuscripts                 the caller's manuscripts (Bearer token; 401 without one)
//   GET  /manuscripts/:id             one manuscript with its analysis
//   PUT  /manuscripts/:id/upload      the manuscript's file, stored in R2 (uploads/<id>/<name>)
//   POST /manuscripts/:id/analyze     queue an analysis job (202)
//   GET  /metrics/queue               {backlog: manuscripts waiting for analysis, consumer_attached}
// No /health: an unauthenticated GET /manuscripts answering 401 is this Worker's health contract.
import { SESSION_SECONDS, checkPassword, hashPassword, signSession, verifySession } from "./auth.js";

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const MANUSCRIPT = /^\/manuscripts\/(\d+)(\/analyze|\/upload)?$/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/auth/login" && request.method === "POST") return login(request, env);
    if (path === "/auth/register" && request.method === "POST") return register(request, env, url);
    if (path === "/auth/verify" && request.method === "GET") return verify(url, env);
    if (path === "/metrics/queue") return json(await queueMetrics(env));
    const user = await caller(request, env);
    if (path === "/auth/logout" && request.method === "POST") {
      if (!user) return unauthorized();
      await env.SESSIONS.delete(`session:${user.jti}`);
      return json({ logged_out: true });
    }
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
      if (match[2] === "/analyze" && request.method === "POST") return analyze(manuscript, env);
      if (match[2] === "/upload" && request.method === "PUT") return upload(manuscript, request, env, url);
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

// A valid token whose session is still in KV (logout and expiry end it).
async function caller(request, env) {
  const header = request.headers.get("Authorization") || "";
  if (!header.startsWith("Bearer ")) return null;
  const claims = await verifySession(env.JWT_SECRET, header.slice("Bearer ".length));
  if (!claims || !claims.jti || !(await env.SESSIONS.get(`session:${claims.jti}`))) return null;
  return { id: Number(claims.sub), email: claims.email, role: claims.role, jti: claims.jti };
}

async function credentials(request) {
  const body = await request.json().catch(() => null);
  return body && typeof body.email === "string" && typeof body.password === "string" ? body : null;
}

async function login(request, env) {
  if (!env.JWT_SECRET) return json({ error: "JWT_SECRET is not set on this Worker: logins are disabled" }, 503);
  const body = await credentials(request);
  if (!body) return json({ error: "send {\"email\": ..., \"password\": ...}" }, 400);
  const user = await env.DB.prepare("SELECT id, email, password_hash, role FROM users WHERE email = ?").bind(body.email).first();
  if (!user || !(await checkPassword(body.password, user.password_hash))) return json({ error: "wrong email or password" }, 401);
  const now = Math.floor(Date.now() / 1000);
  const jti = crypto.randomUUID();
  const token = await signSession(env.JWT_SECRET,
    { sub: String(user.id), email: user.email, role: user.role, jti, iat: now, exp: now + SESSION_SECONDS });
  await env.SESSIONS.put(`session:${jti}`, JSON.stringify({ user_id: user.id, at: now }), { expirationTtl: SESSION_SECONDS });
  return json({ token, token_type: "Bearer", expires_in: SESSION_SECONDS });
}

async function register(request, env, url) {
  const body = await credentials(request);
  if (!body || body.password.length < 8) return json({ error: "send {\"email\": ..., \"password\": 8 characters or more}" }, 400);
  if (await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(body.email).first()) {
    return json({ error: "that email is taken" }, 409);
  }
  const created = await env.DB.prepare("INSERT INTO users (email, password_hash) VALUES (?, ?) RETURNING id")
    .bind(body.email, await hashPassword(body.password)).first();
  const token = crypto.randomUUID();
  const expires = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
  await env.DB.prepare("INSERT INTO verification_tokens (token, user_id, expires_at) VALUES (?, ?, ?)")
    .bind(token, created.id, expires).run();
  console.log(`verification email for user ${created.id}: ${url.origin}/auth/verify?token=${token}`);
  return json({ id: created.id, email_verified: false }, 201);
}

async function verify(url, env) {
  const token = url.searchParams.get("token") || "";
  const row = await env.DB.prepare(
    "SELECT user_id FROM verification_tokens WHERE token = ? AND used_at IS NULL AND expires_at > ?")
    .bind(token, new Date().toISOString()).first();
  if (!row) return json({ error: "unknown, used or expired verification token" }, 400);
  await env.DB.batch([
    env.DB.prepare("UPDATE verification_tokens SET used_at = ? WHERE token = ?").bind(new Date().toISOString(), token),
    env.DB.prepare("UPDATE users SET email_verified = 1 WHERE id = ?").bind(row.user_id),
  ]);
  return json({ user_id: row.user_id, email_verified: true });
}

async function upload(manuscript, request, env, url) {
  const name = (url.searchParams.get("name") || "manuscript.txt").replace(/[^A-Za-z0-9._-]/g, "_");
  const key = `uploads/${manuscript.id}/${name}`;
  try {
    await env.UPLOADS.put(key, request.body, { httpMetadata: { contentType: request.headers.get("content-type") || "text/plain" } });
  } catch (err) {
    console.error(`upload of manuscript ${manuscript.id} failed: R2 put ${key}: ${err}`);
    return json({ error: "the upload could not be stored" }, 502);
  }
  await env.DB.prepare("UPDATE manuscripts SET upload_key = ? WHERE id = ?").bind(key, manuscript.id).run();
  return json({ stored: key }, 201);
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
