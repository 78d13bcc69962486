"""How each fake AI provider takes its API key, and how it refuses a wrong one: as the real provider does.

OpenAI and Mistral read ``Authorization: Bearer <key>``, Anthropic ``x-api-key``; a wrong or
missing key is a 401 whose body has the provider's own shape (OpenAI's ``invalid_api_key``,
Anthropic's ``authentication_error``, Mistral's ``{"detail": "Unauthorized"}``). The AI
Worker keeps each key in a secret named here; the sandbox gives each provider the Worker's
key (``Sandbox._give_provider_keys``), so a wrong secret is refused.
"""

from __future__ import annotations

import uuid
from typing import Any, Mapping

__all__ = ["KEY_SECRETS", "rejection", "sent_key"]

# The AI Worker's secret that holds each provider's key.
KEY_SECRETS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "mistral": "MISTRAL_API_KEY"}


def sent_key(provider: str, headers: Mapping[str, str]) -> str:
    """The key a request carries, where that provider reads it (``headers`` with lower-case names)."""
    if provider == "anthropic":
        return str(headers.get("x-api-key") or "")
    auth = str(headers.get("authorization") or "")
    return auth[len("Bearer "):] if auth.startswith("Bearer ") else ""


def rejection(provider: str, accepted: str, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The provider's 401 body when the key sent is not ``accepted`` ("" accepts any key), else None."""
    if provider not in KEY_SECRETS or not accepted:
        return None
    sent = sent_key(provider, headers)
    if sent == accepted:
        return None
    if provider == "anthropic":
        message = "invalid x-api-key" if sent else "x-api-key header is required"
        return {"type": "error", "error": {"type": "authentication_error", "message": message},
                "request_id": f"req_{uuid.uuid4().hex[:24]}"}
    if provider == "mistral":
        return {"detail": "Unauthorized"}
    if not sent:
        return {"error": {"message": "You didn't provide an API key. You need to provide your API key in an "
                          "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                          "type": "invalid_request_error", "param": None, "code": None}}
    return {"error": {"message": f"Incorrect API key provided: {_masked(sent)}. You can find your API key at "
                      "https://platform.openai.com/account/api-keys.",
                      "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}


def _masked(key: str) -> str:
    """OpenAI shows a wrong key's first and last characters only."""
    return key[:3] + "*" * max(len(key) - 7, 4) + key[-4:] if len(key) > 8 else "*" * len(key)
