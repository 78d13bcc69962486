// The runbook's two Durable Objects.

// One per job (idFromName(jobId)): the job's progress, kept in its storage, pushed to every
// client watching /ws/progress?jobId=... (hibernatable WebSockets).
export class ProgressWebSocketDO {
  constructor(state) {
    this.state = state;
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (request.headers.get("Upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      this.state.acceptWebSocket(server);
      const progress = await this.state.storage.get("progress");
      if (progress) server.send(JSON.stringify(progress));
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === "/progress" && request.method === "PUT") {
      const progress = await request.json();
      await this.state.storage.put("progress", progress);
      for (const socket of this.state.getWebSockets()) socket.send(JSON.stringify(progress));
      return Response.json(progress);
    }
    if (url.pathname === "/progress") return Response.json((await this.state.storage.get("progress")) || null);
    return Response.json({ error: "not found" }, { status: 404 });
  }

  async webSocketMessage(socket) {
    socket.send(JSON.stringify((await this.state.storage.get("progress")) || null));
  }
}

// One per client (idFromName(client)): a fixed one-minute window of that client's requests.
export class RateLimiterDO {
  constructor(state) {
    this.state = state;
  }

  async fetch(request) {
    const { limit } = await request.json();
    const now = Date.now();
    const window = Math.floor(now / 60000);
    let counter = (await this.state.storage.get("counter")) || { window, count: 0 };
    if (counter.window !== window) counter = { window, count: 0 };
    counter.count += 1;
    await this.state.storage.put("counter", counter);
    return Response.json({ allowed: counter.count <= limit, count: counter.count, limit,
      retry_after: 60 - Math.floor((now % 60000) / 1000) });
  }
}
