"""`notify`: post a Slack-compatible message (`text` plus `blocks`) to a webhook.

``webhook`` should be a secret param (``{{ params.webhook }}`` with ``type: secret``,
e.g. ``env:OPS_NOTIFY_URL``): a webhook URL carries its own credential, so it is
redacted in plans, output, the journal and errors. The body is built by
``ops.notify.payload``; ``fields`` become the message's fields.

Posting is a `write` (it reaches people), so a dry-run shows it and never sends
it. It cannot be unsent: its undo is a no-op that never runs. A webhook that
does not answer is an observation (``delivered: false`` with ``error``), never a
failed remediation, unless the spec expects ``delivered: true``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs, UndoCall
from ops.documents.shape import BOOLEAN, STRING, nullable, record


class NotifyArgs(Args):
    webhook: str = Field(min_length=8, description="The webhook URL, from a secret param (`{{ params.webhook }}`).")
    event: str = Field("note", min_length=1, description="What happened: `run-start`, `run-end`, or your own word.")
    message: str = Field("", description="The message's text.")
    fields: dict[str, Any] = Field(default_factory=dict, description="Shown as the message's fields "
                                                                    "(`spec`, `target`, `status` shape the headline).")


class NotifyAction(Action):
    name = "notify"
    Args = NotifyArgs
    summary = "Post a Slack-compatible message to a webhook (the URL is a secret)."
    outputs = record(delivered=BOOLEAN, error=nullable(STRING), event=STRING)
    url_keys = frozenset({"webhook"})

    def effect(self, args: NotifyArgs) -> str:
        return "write"

    def safe_to_retry(self, args: NotifyArgs) -> bool:
        return False  # a second post is a second message

    def supplies_undo(self, args: NotifyArgs) -> bool:
        return True

    def default_undo(self, args: NotifyArgs, outputs: Outputs) -> UndoCall:
        return UndoCall("noop", {"reason": "a sent notification cannot be unsent"}, "nothing: a message stays sent",
                        after=())

    def describe(self, args: NotifyArgs) -> str:
        return f"notify the webhook: {args.event}" + (f" ({args.message[:60]})" if args.message else "")

    def run(self, args: NotifyArgs, ctx: Context) -> Outputs:
        from ops.errors import InputError
        from ops.notify import post_quietly
        from ops.redact import registry

        hook = args.webhook
        if not registry.holds(hook) and registry.finds(hook) and not ctx.target.egress().allows(hook):
            raise InputError("notify: the webhook URL carries a secret it is not; a webhook comes whole from one "
                             "secret param, or goes to a host the target allows (allowed_hosts)")
        error = post_quietly(args.webhook, args.event, {**args.fields, "message": args.message})
        return {"delivered": error is None, "error": error, "event": args.event}
