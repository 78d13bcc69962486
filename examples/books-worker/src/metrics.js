// In-memory sliding windows: cache hits and request outcomes over the last N seconds.
export class Metrics {
  constructor() {
    this.hits = [];
    this.responses = [];
    this.r2 = { writes: 0, write_failures: 0, last_error: null };
  }
  r2Write(error) {
    this.r2.writes += 1;
    if (error) {
      this.r2.write_failures += 1;
      this.r2.last_error = String(error);
    }
  }
  cacheHit(hit) {
    this.hits.push([Date.now(), hit]);
    if (this.hits.length > 200000) this.hits.splice(0, 100000);
  }
  request(status, errorCode) {
    this.responses.push([Date.now(), status, errorCode || null]);
    if (this.responses.length > 200000) this.responses.splice(0, 100000);
  }
  resetCache() {
    this.hits = [];
  }
  cache(windowSeconds) {
    const since = Date.now() - windowSeconds * 1000;
    const recent = this.hits.filter(([t]) => t >= since);
    const hits = recent.filter(([, h]) => h).length;
    return { window_s: windowSeconds, hits, misses: recent.length - hits, hit_rate: recent.length ? hits / recent.length : null };
  }
  requests(windowSeconds) {
    const since = Date.now() - windowSeconds * 1000;
    const recent = this.responses.filter(([t]) => t >= since);
    const errors = recent.filter(([, s]) => s >= 500).length;
    const rate = (n) => (recent.length >= 20 ? n / recent.length : null); // fewer requests are no evidence
    const client = recent.filter(([, s]) => s >= 400 && s < 500 && s !== 404 && s !== 429).length;
    const limited = recent.filter(([, s]) => s === 429).length;
    const byErrorCode = {};
    for (const [, , code] of recent) if (code) byErrorCode[code] = (byErrorCode[code] || 0) + 1;
    // rate_4xx leaves out 404 (a miss is an answer) and 429 (rate_429, the limiter's own)
    return { window_s: windowSeconds, total: recent.length, errors, error_rate: recent.length ? errors / recent.length : 0,
      rate_4xx: rate(client), rate_429: rate(limited), by_error_code: byErrorCode };
  }
}
