-- The services the platform routes to (what /services lists). Written idempotently: the sandbox applies it
-- through the D1 API on every start, as `wrangler d1 migrations apply greyhaven-db --remote` would once.
CREATE TABLE IF NOT EXISTS services (
  name TEXT PRIMARY KEY,
  origin TEXT NOT NULL
);
INSERT OR IGNORE INTO services (name, origin) VALUES ('api', 'https://origin.internal.example');
