"""The environment a child program (wrangler, a `run` step) starts with: only what it needs.

Never the whole of ours: an ambient ``CLOUDFLARE_API_KEY`` / ``CLOUDFLARE_EMAIL`` (the
global key) would win over the target's token in wrangler, and a `run` step would see
every credential the operator's shell holds. A child gets the basics a program needs
to start (PATH, HOME, locale, temp dir, terminal), Node's and npm's settings, proxy
and CA settings, and then what the caller adds (the target's credentials, a step's
``env:``).
"""

from __future__ import annotations

import os
from typing import Mapping

__all__ = ["DROPPED", "child_env", "dropped"]

BASICS = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "TERM",
                    "SYSTEMROOT", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA", "LOCALAPPDATA"})
PROXIES = frozenset({"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy",
                     "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS"})
PREFIXES = ("LC_", "NODE_", "NPM_CONFIG_", "npm_config_", "XDG_", "NVM_")
# Named in the plan when present, because dropping them changes what wrangler would have done.
DROPPED = ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CF_API_KEY", "CF_EMAIL", "CLOUDFLARE_API_TOKEN", "CF_API_TOKEN")


def child_env(extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The basics from ``environ`` (ours by default), then ``extra`` on top."""
    source = os.environ if environ is None else environ
    kept = {k: v for k, v in source.items() if k in BASICS or k in PROXIES or k.startswith(PREFIXES)}
    return {**kept, **(extra or {})}


def dropped(environ: Mapping[str, str] | None = None) -> list[str]:
    """The ambient Cloudflare credentials present in ``environ`` that a child will not see."""
    source = os.environ if environ is None else environ
    return [name for name in DROPPED if source.get(name)]
