"""A target's notification webhook, read from the source its setting names and registered as a secret.

The engine reads it (a target setting, like a secret param); ``ops.notify`` only posts to it.
"""

from __future__ import annotations

from ops import redact
from ops.engine.params import SecretValue, read_source
from ops.errors import InputError, TransportError

__all__ = ["webhook_from"]


def webhook_from(source: str, *, where: str) -> SecretValue | None:
    """The webhook a setting names (`env:NAME` or `file:PATH`, never the URL itself), registered as a secret.

    None when the variable is unset or empty: notifications are optional. For a target
    setting such as ``notify = { webhook = "env:OPS_NOTIFY_URL" }``; ``where`` names it in errors.
    """
    kind, _, rest = source.partition(":")
    if kind not in ("env", "file") or not rest:
        raise InputError(f"{where}: write env:NAME or file:PATH (a webhook URL is a secret; never put it here)")
    value = (read_source(source, where, optional=True) or "").strip()
    if not value:
        return None
    try:
        redact.register(value)
    except ValueError:
        raise TransportError("notify: the webhook URL is too short to be one") from None
    return SecretValue(value, source)
