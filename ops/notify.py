"""Notifications: a run's start and end posted to a webhook, in Slack-compatible JSON.

The body is ``{"text": …, "blocks": […]}``: Slack's incoming webhooks render the
Block Kit ``blocks`` (a header, a section, up to 10 fields, a context line;
limits from api.slack.com/reference/block-kit/blocks: header text 150
characters, section text 3,000, each field 2,000) and fall back to ``text``;
generic receivers (Mattermost, Discord's `/slack` endpoint, a chat bridge, a
plain HTTP log) take the same JSON and read ``text``.

The webhook URL is a secret: it is registered with the redactor, it never
appears in a message this module writes, and everything posted is redacted
first, so a secret inside a summary never leaves either. A notification that
cannot be delivered never fails a run: ``post`` raises ``TransportError`` with
the reason (no URL), and ``post_quietly`` returns it for the journal.
"""

from __future__ import annotations

from typing import Any, Mapping

from ops import redact
from ops.errors import TransportError

__all__ = ["TIMEOUT", "payload", "post", "post_quietly"]

TIMEOUT = 5.0  # seconds: a 3 a.m. rollback must not wait on a chat server
HEADER_MAX, SECTION_MAX, FIELD_MAX, FIELDS_MAX = 150, 3000, 2000, 10


def post(url: Any, event: str, summary: Mapping[str, Any]) -> None:
    """POST one notification. ``url`` is a SecretValue or a string; raises TransportError without the URL."""
    from ops import http

    address = str(url)
    _register(address)
    body = payload(event, summary)
    try:
        with http.client(read_only=False, timeout=TIMEOUT) as client:
            response = client.post(address, json=body, headers={"User-Agent": "cfw-remedy"})
    except Exception as exc:  # httpx's messages can carry the URL: keep only the kind of failure
        raise TransportError(f"notify {event}: the webhook did not answer ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise TransportError(f"notify {event}: the webhook answered HTTP {response.status_code}")


def post_quietly(url: Any, event: str, summary: Mapping[str, Any]) -> str | None:
    """Like ``post``, for the engine: None when delivered, else why not (redacted), never an exception."""
    try:
        post(url, event, summary)
    except TransportError as exc:
        return redact.redact(str(exc))
    return None


def payload(event: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The Slack-compatible body for one event (``run-start``, ``run-end``, …), redacted."""
    clean: dict[str, Any] = redact.redact_data(dict(summary))
    headline = _headline(event, clean)
    fields = [{"type": "mrkdwn", "text": _cut(f"*{key}*\n{_shown(value)}", FIELD_MAX)}
              for key, value in clean.items() if key != "message" and value not in (None, "", [], {})][:FIELDS_MAX]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": _cut(headline, HEADER_MAX)}}]
    if clean.get("message"):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(str(clean["message"]), SECTION_MAX)}})
    if fields:
        blocks.append({"type": "section", "fields": fields})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"cfw-remedy · {event}"}]})
    text = headline + (f": {clean['message']}" if clean.get("message") else "")
    return {"text": _cut(text, SECTION_MAX), "blocks": blocks}


def _headline(event: str, summary: Mapping[str, Any]) -> str:
    spec, target = summary.get("spec") or "cfw-remedy", summary.get("target") or "?"
    if event == "run-start":
        return f"{spec} started on {target}"
    if event == "run-end":
        code = f" (exit {summary['exit_code']})" if summary.get("exit_code") is not None else ""
        return f"{spec} ended {summary.get('status') or '?'} on {target}{code}"
    return f"{spec} {event} on {target}"


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, default=str)
    return str(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _register(url: str) -> None:
    try:
        redact.register(url)
    except ValueError:
        raise TransportError("notify: the webhook URL is too short to be one") from None
