// Settings: the vars give the defaults, PUT /config stores changes in KV (key "settings").
const KEY = "settings";
const MIN_TTL = 60; // KV's smallest expirationTtl

export async function readConfig(env) {
  const stored = (await env.CONFIG.get(KEY, "json")) || {};
  return {
    enableFallbackProviders: stored.enableFallbackProviders ?? env.ENABLE_FALLBACK_PROVIDERS === "true",
    cacheTtlSeconds: stored.cacheTtlSeconds ?? Number(env.CACHE_TTL_SECONDS || 3600),
    debugTrace: stored.debugTrace ?? false,
    traceCacheSize: stored.traceCacheSize ?? Number(env.TRACE_CACHE_SIZE || 1000), // debug traces this isolate keeps
    primaryProvider: env.AI_PRIMARY_PROVIDER,
    fallbackProviders: fallbacks(env),
    updatedAt: stored.updatedAt || null,
  };
}

export function fallbacks(env) {
  return (env.AI_FALLBACK_PROVIDERS || "").split(",").map((s) => s.trim()).filter(Boolean);
}

// A change of some settings; anything else is refused with what is allowed. dryRun: validate only.
export async function writeConfig(env, change, { dryRun = false } = {}) {
  const problems = [];
  if (!change || typeof change !== "object" || Array.isArray(change)) problems.push("send a JSON object");
  else {
    for (const key of Object.keys(change)) {
      if (!["enableFallbackProviders", "cacheTtlSeconds", "debugTrace", "traceCacheSize"].includes(key)) problems.push(`unknown setting ${key}`);
    }
    if ("debugTrace" in change && typeof change.debugTrace !== "boolean") problems.push("debugTrace must be true or false");
    if ("enableFallbackProviders" in change && typeof change.enableFallbackProviders !== "boolean") {
      problems.push("enableFallbackProviders must be true or false");
    }
    if ("traceCacheSize" in change && !(Number.isInteger(change.traceCacheSize) && change.traceCacheSize >= 0)) {
      problems.push("traceCacheSize must be an integer of at least 0");
    }
    if ("cacheTtlSeconds" in change && !(Number.isInteger(change.cacheTtlSeconds) && change.cacheTtlSeconds >= MIN_TTL)) {
      problems.push(`cacheTtlSeconds must be an integer of at least ${MIN_TTL}`);
    }
  }
  if (problems.length) return { problems };
  if (dryRun) return {};
  const stored = (await env.CONFIG.get(KEY, "json")) || {};
  await env.CONFIG.put(KEY, JSON.stringify({ ...stored, ...change, updatedAt: new Date().toISOString() }));
  return { config: await readConfig(env) };
}
