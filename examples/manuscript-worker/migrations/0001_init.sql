-- Users log in with a password hashed by the Worker (src/auth.js: PBKDF2-SHA256, as
-- "pbkdf2$<iterations>$<salt, base64>$<hash, base64>"); manuscripts carry their analysis.
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'author',           -- author | editor | admin
  email_verified INTEGER NOT NULL DEFAULT 0,     -- 1 once the verification link was followed
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);

-- One row per verification link sent; used_at is set when it is followed.
CREATE TABLE IF NOT EXISTS verification_tokens (
  token TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  expires_at TEXT NOT NULL,
  used_at TEXT
);

CREATE TABLE IF NOT EXISTS manuscripts (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users(id),
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  analysis_status TEXT NOT NULL DEFAULT 'none',  -- none | queued | done
  word_count INTEGER,
  analyzed_at TEXT,
  upload_key TEXT                                -- the R2 object of its uploaded file, if any
);

-- GET /manuscripts lists by owner: without this index D1 scans the whole table (d1-index's probe asks).
CREATE INDEX IF NOT EXISTS idx_manuscripts_owner_id ON manuscripts(owner_id);

INSERT OR IGNORE INTO manuscripts (id, owner_id, title, body) VALUES
  (1, 1, 'The Lighthouse Keeper', 'The lamp turned all night. Nobody came. In the morning the sea was flat and grey.'),
  (2, 1, 'Notes on Tides', 'Tides follow the moon. Twice a day the water rises and falls along the coast.'),
  (3, 1, 'A Short Winter', 'Snow fell once. It melted by noon, and the children never forgave the sky.');
