"""Which resource a binding whose id no longer exists most likely meant, or why we will not guess.

A KV namespace or D1 database that was deleted and recreated keeps its title and
gets a new id. The candidates are tried in tiers, and the first tier with any
candidate decides:

1. the title ``<worker>-<binding>``, the Worker being the env's (``<name>-<env>``
   unless the env names it): what ``wrangler kv:namespace create`` titled a
   namespace up to wrangler 3;
2. the other exact titles: ``<env>-<binding>`` (wrangler 4's ``kv namespace
   create --env``: workers-sdk packages/wrangler/src/kv/index.ts builds
   ``${environment}${args.namespace}``), the binding itself, and the top level's
   ``<name>-<binding>``, each also lower-case with dashes;
3. titles that end in ``-<binding>`` (lower-case, dashes), such as ``books-cache``.

A tier with one candidate is the suggestion (and ``binding-check --fix`` may use
it); a tier with several, or no candidate at all, is a refusal that says what to
run instead. R2 buckets and queues are bound by name, so only a near name is
offered, never applied.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ops.documents.wrangler_config import TOP, Binding

__all__ = ["NOUN", "Suggestion", "suggest"]

NOUN = {"kv": "KV namespace", "d1": "D1 database", "r2": "R2 bucket", "queue": "queue"}
_LIST = {"kv": "wrangler kv namespace list", "d1": "wrangler d1 list"}
_CREATE = {"kv": "wrangler kv namespace create {binding}{env}", "d1": "wrangler d1 create <name>{env}"}


@dataclass(frozen=True)
class Suggestion:
    title: str | None   # the resource meant, when one is
    id: str | None
    hint: str           # appended to the finding's message: the suggestion, or what to do instead
    candidates: tuple[str, ...] = ()


def suggest(binding: Binding, by_title: dict[str, str], worker: str | None, top_name: str | None) -> Suggestion:
    """The resource ``binding`` most likely meant among ``by_title`` (title → id)."""
    noun = NOUN.get(binding.kind, binding.kind)
    if binding.kind not in ("kv", "d1"):
        close = difflib.get_close_matches(binding.resource, list(by_title), n=1, cutoff=0.6)
        if not close:
            return Suggestion(None, None, "")
        return Suggestion(close[0], by_title[close[0]], f'; the {noun} "{close[0]}" ({by_title[close[0]]}) looks like '
                                                         "the one meant: use its name")
    for why, titles in _tiers(binding, by_title, worker, top_name):
        if len(titles) == 1:
            title = titles[0]
            return Suggestion(title, by_title[title], f'; the {noun} "{title}" ({by_title[title]}) looks like the one '
                                                      f"meant ({why}): use its id", (title,))
        if titles:
            shown = ", ".join(f'"{t}"' for t in titles)
            return Suggestion(None, None, f"; {len(titles)} {noun}s could be the one meant ({why}: {shown}), so none "
                                          f"is guessed: put the right id in the config by hand ({_LIST[binding.kind]})",
                              tuple(titles))
    env = f" --env {binding.env}" if binding.env != TOP else ""
    create = _CREATE[binding.kind].format(binding=binding.name, env=env)
    return Suggestion(None, None, f"; no {noun}'s title names it: create one ({create}) and put its id in the config, "
                                  f"or put the right id in by hand ({_LIST[binding.kind]})")


def _tiers(binding: Binding, by_title: dict[str, str], worker: str | None,
           top_name: str | None) -> list[tuple[str, list[str]]]:
    name = binding.name
    dashed = name.lower().replace("_", "-")
    first = [f"{worker}-{name}"] if worker else []
    exact = [name, dashed]
    for prefix in (binding.env if binding.env != TOP else None, worker, top_name):
        if prefix:
            exact += [f"{prefix}-{name}", f"{prefix}-{dashed}"]
    titles = sorted(by_title)
    return [
        (f"titled {first[0]}" if first else "", [t for t in titles if t in first]),
        ("an exact title", [t for t in titles if t in exact and t not in first]),
        (f"a title ending in -{dashed}", [t for t in titles if t.lower().endswith(f"-{dashed}")]),
    ]
