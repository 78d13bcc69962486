"""cfw-remedy: runbooks as code for on-call teams running Cloudflare Workers."""

__version__ = "0.1.0"
