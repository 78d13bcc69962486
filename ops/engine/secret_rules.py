"""Check-time rules on where a spec's secrets come from and where they may go.

- A secret param's default may read only an ``env:NAME`` or ``file:PATH`` the spec
  lists in ``secret_sources`` (shown to the operator in ``--help`` and the plan), and
  every listed source is one a default reads. The tool's own Cloudflare credentials are
  never a spec's to read: the Cloudflare client and wrangler get them from the target.
- A request that carries a secret param goes to the target's own hosts
  (``{{ target.worker_url }}``, ``{{ target.api_base_url }}``, ``{{ target.health_url }}``)
  or a host a target lists in ``allowed_hosts``. A literal URL to any other host is
  refused here; a URL that starts with another reference is judged at run time, on the
  request itself (``ops.egress``).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ops import actions
from ops.engine import template
from ops.engine.model import Spec
from ops.engine.problems import Path_

__all__ = ["CREDENTIALS", "secret_problems"]

CREDENTIALS = frozenset({"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CF_API_TOKEN", "CF_API_KEY",
                         "CF_EMAIL"})
SOURCE = re.compile(r"(env:[A-Za-z_][A-Za-z0-9_]*|file:\S.*)")


def secret_problems(spec: Spec, items: list[tuple[Path_, Any]]) -> Iterator[tuple[Path_, str]]:
    yield from _sources(spec)
    allowed: set[tuple[str, int]] | None = None
    for path, item in items:
        action = actions.get(item.action)
        keys: frozenset[str] = action.url_keys if action is not None else frozenset()
        if not keys or not _carries_secret(spec, item.with_):
            continue
        for key in sorted(keys):
            for at, url in _urls(item.with_.get(key), (*path, "with", key)):
                if allowed is None:
                    allowed = _allowed_anywhere()
                message = _destination_problem(url, allowed)
                if message:
                    yield at, message


def _sources(spec: Spec) -> Iterator[tuple[Path_, str]]:
    declared = list(spec.secret_sources)
    read: set[str] = set()
    for name, param in spec.params.items():
        default = param.default
        if param.type != "secret" or not isinstance(default, str) or default.split(":", 1)[0] not in ("env", "file"):
            continue
        read.add(default)
        if _is_credential(default):
            yield ("params", name, "default"), (
                f"default {default!r} is the tool's own Cloudflare credential; a spec never reads it (the Cloudflare "
                "client and wrangler get the target's token themselves): take the value from another source")
        elif default not in declared:
            yield ("params", name, "default"), (
                f"default {default!r} reads a source the spec does not declare; list it under secret_sources: "
                f"[{default}] so that the operator sees it in --help and the plan")
    for index, source in enumerate(declared):
        where: Path_ = ("secret_sources", index)
        if not SOURCE.fullmatch(source):
            yield where, f"{source!r} is not a source: write env:NAME or file:PATH"
        elif _is_credential(source):
            yield where, (f"{source} is the tool's own Cloudflare credential; a spec never reads it (the Cloudflare "
                          "client and wrangler get the target's token themselves): remove it")
        elif source not in read:
            yield where, f"{source} is declared but no secret param's default reads it: remove it"


def _is_credential(source: str) -> bool:
    return source.startswith("env:") and source[4:].upper() in CREDENTIALS


def _carries_secret(spec: Spec, value: Any) -> bool:
    for ref in template.references(value):
        parts = ref.split(".")
        param = spec.params.get(parts[1]) if parts[0] == "params" and len(parts) == 2 else None
        if param is not None and param.type == "secret":
            return True
    return False


def _urls(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _urls(item, (*path, index))


def _destination_problem(url: str, allowed: set[tuple[str, int]]) -> str | None:
    from ops.egress import origin

    text = url.strip()
    first = template.REF.match(text)
    if first is not None:
        return None  # a target's own base, or a URL known at run time: the transport judges the request
    found = origin(text)
    if found is None:
        return f"{text!r} is not an absolute URL; start it with {{{{ target.worker_url }}}}"
    if found in allowed:
        return None
    return (f"this request carries a secret param to {found[0]}:{found[1]}, which is not the target's; a secret goes "
            "only to {{ target.worker_url }}, {{ target.api_base_url }} or a host a target lists in allowed_hosts "
            "(targets.toml)")


def _allowed_anywhere() -> set[tuple[str, int]]:
    """The hosts any target in the targets file allows (a literal URL is checked before a target is chosen)."""
    from ops.egress import parse_allowed
    from ops.targets import find_targets_file

    try:
        from ops.documents.config import load_config

        doc = load_config(find_targets_file(), what="targets file", max_bytes=1024 * 1024).data
    except Exception:  # no readable targets file: nothing is allowed beyond the target's own hosts
        return set()
    found: set[tuple[str, int]] = set()
    for raw in (doc.get("targets") or {}).values() if isinstance(doc, dict) else ():
        hosts = raw.get("allowed_hosts") if isinstance(raw, dict) else None
        for host in hosts if isinstance(hosts, list) else ():
            if isinstance(host, str):
                found.update(parse_allowed(host))
    return found


def require_sent_secrets(spec: Spec, params: dict[str, Any]) -> None:
    """Stop before anything is sent when a request the run will make needs a secret that is not set.

    A request (an action with URL arguments: http, http_sample, notify) sends every secret it
    names, so one whose source is unset stops the run here, with the message naming the source.
    Items behind a `when:` on step outputs may never run, and are judged when they do.
    """
    from ops.engine.template import Missing, condition_holds

    for _, item in _items(spec):
        action = actions.get(item.action)
        if action is None or not action.url_keys or not _will_run(item, params, condition_holds):
            continue
        for ref in _always_sent(action, item.with_):
            parts = ref.split(".")
            value = params.get(parts[1]) if parts[0] == "params" and len(parts) == 2 else None
            if isinstance(value, Missing):
                from ops.errors import InputError

                raise InputError(f"{getattr(value, 'why', 'a secret is not set')} ({item.name!r} sends it; "
                                 "nothing was sent)")


def _always_sent(action: Any, with_: dict[str, Any]) -> list[str]:
    """The references a call sends whatever it does: not one that is the whole of an optional argument, which
    the action may leave unused (cache_warm's `secret` with `kv_bulk`), as ``probe.validate_args`` treats it."""
    optional = {name for name, f in action.Args.model_fields.items() if not f.is_required()}
    refs: list[str] = []
    for key, value in with_.items():
        whole = template.REF.fullmatch(value.strip()) if isinstance(value, str) else None
        if whole is None or key not in optional:
            refs += template.references(value)
    return refs


def _items(spec: Spec) -> Iterator[tuple[str, Any]]:
    yield from (("preconditions", i) for i in spec.preconditions)
    yield from (("steps", i) for i in spec.steps)
    yield from (("verify", i) for i in spec.verify.checks)


def _will_run(item: Any, params: dict[str, Any], holds: Any) -> bool:
    when = getattr(item, "when", None)
    if not when:
        return True
    if not when.replace("not ", "", 1).strip().startswith("params."):
        return False
    try:
        return holds(when, {"params": params}) is True
    except Exception:
        return False
