// In-memory sliding windows: cache hits and request outcomes over the last N seconds.
export class Metrics {
  constructor() {
    this.hits = [];
    this.responses = [];
  }
  cacheHit(hit) {
    this.hits.push([Date.now(), hit]);
    if (this.hits.length > 200000) this.hits.splice(0, 100000);
  }
  request(status) {
    this.responses.push([Date.now(), status]);
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
    return { window_s: windowSeconds, total: recent.length, errors, error_rate: recent.length ? errors / recent.length : 0 };
  }
}
