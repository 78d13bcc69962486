// The infrastructure platform's Worker. It knows nothing of cfw-remedy: "/" answers 200,
// "/settings/<key>" reads KV, "/origin" needs ORIGIN_URL and the ORIGIN_TOKEN secret.
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/") return new Response("ok\n");
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
