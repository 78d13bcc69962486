"""Pre-deploy gates: wrangler config bindings and bundle size.

The pipeline reads from the file names: ``lookup`` (find the config the way
wrangler does) → ``load`` (TOML, JSON or JSONC, with the line and column of every
key) → ``bindings`` / ``bundle`` (pure checks that return findings) →
``result`` → ``report`` (text, JSON, GitHub annotations).
"""
