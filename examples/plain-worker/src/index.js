// A plain Worker: it answers 200 on "/", serves items from KV and guards one route with a secret.
// It reports nothing about itself: no /health, no version, no metrics.
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/") return new Response(`ok (upstreams: ${env.PROVIDER_ORDER})\n`);
    if (path.startsWith("/items/")) {
      const item = await env.CACHE.get(decodeURIComponent(path.slice("/items/".length)));
      return item === null
        ? new Response("not found\n", { status: 404, headers: { "X-Cache-Status": "MISS" } })
        : new Response(item, { headers: { "content-type": "application/json", "X-Cache-Status": "HIT" } });
    }
    if (path === "/private") {
      const given = request.headers.get("Authorization") || "";
      return env.API_KEY && given === `Bearer ${env.API_KEY}`
        ? new Response("welcome\n")
        : new Response("unauthorized\n", { status: 401 });
    }
    return new Response("not found\n", { status: 404 });
  },
};
