"""Pre-deploy gates: the wrangler config (bindings gate) and the bundle size.

The pipeline reads from the file names: ``ops.documents.wrangler_config`` (find the
config the way wrangler does, read it as TOML, JSON or JSONC with the line and column
of every key, and resolve each env's effective config and bindings) → the bindings
gate's three layers, ``schema`` (wrangler's published config-schema.json, per wrangler
version), ``wrangler_rules`` (wrangler's semantic validation) and ``bindings`` (our own
checks, and the entry point) / ``bundle`` →
``result`` (one Result for every gate) → ``report`` (text, JSON, GitHub annotations).

``RULES.md`` beside this file lists every rule of wrangler's config validation
(workers-sdk validation.ts) with our code for it, or why we do not check it, and
the rules that differ between wrangler versions.
"""
