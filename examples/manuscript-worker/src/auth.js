// Passwords and session tokens, with WebCrypto only.
// A password is stored as "pbkdf2$<iterations>$<salt, base64>$<hash, base64>" (PBKDF2-SHA256;
// Workers allow at most 100,000 iterations). A session is an HS256 JWT (RFC 7519) signed with JWT_SECRET.

const encoder = new TextEncoder();
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const b64url = (bytes) => b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64url = (text) => unb64(text.replace(/-/g, "+").replace(/_/g, "/"));
export const SESSION_SECONDS = 3600;

async function pbkdf2(password, salt, iterations) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
}

export async function hashPassword(password, iterations = 100000) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `pbkdf2$${iterations}$${b64(salt)}$${b64(await pbkdf2(password, salt, iterations))}`;
}

export async function checkPassword(password, stored) {
  const [scheme, iterations, salt, hash] = String(stored || "").split("$");
  if (scheme !== "pbkdf2" || !hash) return false;
  const derived = new Uint8Array(await pbkdf2(password, unb64(salt), Number(iterations)));
  const expected = unb64(hash);
  let diff = derived.length ^ expected.length;
  for (let i = 0; i < Math.min(derived.length, expected.length); i++) diff |= derived[i] ^ expected[i];
  return diff === 0;
}

async function hmacKey(secret, usage) {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

export async function signSession(secret, claims) {
  const head = b64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = b64url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), encoder.encode(`${head}.${body}`));
  return `${head}.${body}.${b64url(signature)}`;
}

// The claims of a valid, unexpired HS256 token signed with `secret`; null otherwise.
export async function verifySession(secret, token) {
  const parts = String(token || "").split(".");
  if (!secret || parts.length !== 3) return null;
  try {
    const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), unb64url(parts[2]),
      encoder.encode(`${parts[0]}.${parts[1]}`));
    if (!valid) return null;
    const header = JSON.parse(new TextDecoder().decode(unb64url(parts[0])));
    const claims = JSON.parse(new TextDecoder().decode(unb64url(parts[1])));
    if (header.alg !== "HS256" || typeof claims.sub !== "string") return null;
    if (typeof claims.exp !== "number" || claims.exp < Date.now() / 1000) return null;
    return claims;
  } catch {
    return null;
  }
}
