"""What the AI, manuscript and infrastructure runbooks name, in one place: each Worker's name, bindings and routes.

tests/sandbox/test_runbook_names.py checks the bindings in each example's wrangler config (no sandbox), and the
e2e modules of each system check every route on the Worker served on workerd (`routes_answer`).
"""

from __future__ import annotations

from typing import Any

import httpx

# Worker name, then (binding kind, binding, resource) as the runbooks name them.
BINDINGS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "ai-worker": ("ai-api", [("kv", "CONFIG", ""), ("kv", "CACHE", ""), ("version_metadata", "CF_VERSION_METADATA", "")]),
    "manuscript-worker": ("manuscript-upload-api", [
        ("d1", "DB", "manuscript-platform"), ("kv", "SESSIONS", ""), ("r2", "UPLOADS", "manuscript-uploads"),
        ("queue-producer", "ANALYSIS_QUEUE", "manuscript-analysis-queue"),
        ("queue-consumer", "", "manuscript-analysis-queue"), ("dead-letter-queue", "", "manuscript-analysis-dlq")]),
    "infra-worker": ("infra-api", [("d1", "DB", "greyhaven-db"), ("kv", "SETTINGS", ""),
                                   ("version_metadata", "CF_VERSION_METADATA", "")]),
}
# The manuscript runbook's tables and columns (migrations/).
MANUSCRIPT_SCHEMA = ("verification_tokens", "role", "email_verified", "idx_manuscripts_owner_id")

# (method, path, JSON body or None): each must be routed (any answer but 404 "not found"), asked without credentials.
ROUTES: dict[str, list[tuple[str, str, Any]]] = {
    "ai": [("POST", "/", {"prompt": "route check"}), ("GET", "/health", None), ("GET", "/providers/status", None),
           ("GET", "/cache/status", None), ("GET", "/config", None), ("PUT", "/config", {}), ("POST", "/config", {}),
           ("PATCH", "/config", {}), ("POST", "/config/validate", {}), ("GET", "/diagnostics", None),
           ("GET", "/memory", None), ("GET", "/debug", None), ("GET", "/trace", None),
           ("GET", "/metrics/requests", None), ("POST", "/admin/cache/warm", {}), ("POST", "/admin/cache/flush", {})],
    "manuscript": [("POST", "/auth/login", {}), ("POST", "/auth/register", {}), ("GET", "/auth/verify", None),
                   ("POST", "/auth/logout", None), ("GET", "/manuscripts", None), ("GET", "/manuscripts/1", None),
                   ("PUT", "/manuscripts/1/upload", None), ("POST", "/manuscripts/1/analyze", None),
                   ("GET", "/metrics/queue", None)],
    "infra": [("GET", "/health", None), ("GET", "/", None), ("GET", "/services", None), ("GET", "/origin", None)],
}


def unrouted(base_url: str, system: str) -> list[str]:
    """The routes of ``system`` the Worker at ``base_url`` answers 404 (not routed); [] when every one is."""
    missing = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for method, path, body in ROUTES[system]:
            answer = client.request(method, path, json=body)
            if answer.status_code in (404, 405) and "not found" in answer.text:
                missing.append(f"{method} {path}")
    return missing
