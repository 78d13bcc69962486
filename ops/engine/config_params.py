"""A spec's params that name a resource of the Worker (``config:`` in the spec), settled from its wrangler config.

A remediation never invents a resource the Worker's config does not name:

- a value given (a flag, or the target's params table) that the config, for the
  target's env, does not name is refused (exit 2), naming the config and what it names;
- with no value given, the only one the config names is used (a `queue` it consumes, a
  `secret` it requires, a `kv-namespace` it binds) when the spec gives the param no
  default; a spec default of "" keeps it opt-in (a probe that reads it may not fit
  every store: jwt-rotation's users table). A `dead-letter-queue` is always the one
  the config gives the chosen queue's consumer, or none;
- a param the config cannot settle stays unset, and ``Settled.unset`` says why: a probe
  that reads it is then not run (``ops.engine.diagnose``), and a run that needs it says
  which flag to pass.

Without a wrangler config (a target that names none, in a folder that has none) the
values are taken as given. Secrets are those of ``secrets.required`` and the target's
``secrets`` list; when neither says, any name is taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ops.documents.worker_resources import KINDS, WorkerResources
from ops.engine.model import Spec
from ops.errors import InputError
from ops.targets import Target

__all__ = ["Settled", "settle", "worker_scope"]

# Settled first: a dead-letter queue is the chosen queue's.
ORDER = ("queue", "secret", "d1-database", "kv-namespace", "r2-bucket", "dead-letter-queue")


@dataclass
class Settled:
    values: dict[str, Any] = field(default_factory=dict)   # what the config gives params that were not given
    origins: dict[str, str] = field(default_factory=dict)  # where each of those came from
    unset: dict[str, str] = field(default_factory=dict)    # param -> why the config gives it no value


def settle(spec: Spec, target: Target, given: Mapping[str, Any], origins: Mapping[str, str]) -> Settled:
    """The config's values for ``spec``'s params on ``target``; a given value the config does not name is an
    ``InputError`` located at its flag or its targets line."""
    settled = Settled()
    named = sorted(((n, p) for n, p in spec.params.items() if p.config), key=lambda np: ORDER.index(str(np[1].config)))
    resources = target.resources() if named else None
    if resources is None:
        return settled
    for name, param in named:
        kind = str(param.config)
        flag = origins.get(name) or "--" + name.replace("_", "-")
        value = given.get(name)
        if kind == "dead-letter-queue":
            _dead_letter_queue(spec, name, target, resources, {**given, **settled.values}, origins, settled)
            continue
        names = target.secret_names() if kind == "secret" else resources.names(kind)
        if value not in (None, ""):
            if names is not None and str(value) not in names:
                shown = names if kind in ("queue", "secret") else resources.resources(kind)
                raise InputError(f"{flag}: {value!r} is no {KINDS[kind]} of the Worker: {_where(kind, resources, target)} "
                                 f"names {_listed(shown)}; {_fix(kind, name)}")
            continue
        only = names if kind in ("queue", "secret") else resources.resources(kind)
        if param.default is None and only is not None and len(only) == 1:
            settled.values[name] = only[0]
            settled.origins[name] = f"{resources.where}: the only {KINDS[kind]}"
        elif param.default in (None, ""):
            settled.unset[name] = _why_unset(kind, only, param.default is None, resources, target, name, spec.name)
    return settled


def _dead_letter_queue(spec: Spec, name: str, target: Target, resources: WorkerResources, given: Mapping[str, Any],
                       origins: Mapping[str, str], settled: Settled) -> None:
    queue_param = next((n for n, p in spec.params.items() if p.config == "queue"), None)
    queue = str(given.get(queue_param) or "") if queue_param else ""
    if queue not in resources.consumers:
        return  # no consumer of the config's to follow (refused above, or a target without one): taken as given
    dlq = resources.consumers[queue]
    value = given.get(name)
    queue_from_target = queue_param in origins
    if value not in (None, "") and name in origins and not queue_from_target:
        value = None  # the target's dead-letter queue belongs to the target's queue, not to the one a flag names
    if value not in (None, "") and str(value) != dlq:
        flag = origins.get(name) or "--" + name.replace("_", "-")
        has = f"gives it {dlq!r}" if dlq else "gives it none"
        raise InputError(f"{flag}: {value!r} is not the dead-letter queue of queue {queue!r}: {resources.where} {has}; "
                         f"leave {name.replace('_', '-')} out (the config's is used), or change the config")
    settled.values[name] = dlq
    if dlq:
        settled.origins[name] = f"{resources.where}: the dead-letter queue of {queue!r}"
    else:
        settled.unset[name] = f"{resources.where} gives the consumer of {queue!r} no dead-letter queue"


def worker_scope(target: Target) -> dict[str, Any]:
    """What `worker.*` names in a spec's ``when:``: ``worker.secrets.NAME`` holds when the Worker needs NAME.

    A config that cannot be read needs nothing here: every run builds this scope, and an
    emergency rollback must not stop on a config it never reads."""
    try:
        names = target.secret_names() or ()
    except (InputError, OSError):
        names = target.secrets
    return {"secrets": Needed(names)}


class Needed(dict[str, bool]):
    """Each name it was made with is True; any other is False (a `when:` on a secret the Worker does not need)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__(dict.fromkeys(names, True))

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> bool:
        return False


def why_not_needed(condition: str, target: Target) -> str:
    """Why a probe's ``when: worker.secrets.NAME`` does not hold, in the user's words."""
    secret = condition.rsplit(".", 1)[-1]
    resources = target.resources()
    said = []
    if resources is not None and resources.secrets is not None:
        said.append(f"{resources.where} secrets.required ({_listed(resources.secrets)})")
    if target.secrets:
        said.append(f"targets.{target.name}.secrets ({_listed(target.secrets)})")
    if said:
        return f"the Worker needs no {secret}: it is not in {' or '.join(said)}"
    config = f"{resources.where} declares no secrets.required" if resources is not None else "no wrangler config"
    return f"the Worker needs no {secret} that anyone says: {config}, and targets.{target.name} lists no secrets"


def _where(kind: str, resources: WorkerResources, target: Target) -> str:
    if kind == "secret":
        return f"{resources.where} secrets.required" + (f" with targets.{target.name}.secrets" if target.secrets else "")
    return resources.where


def _listed(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names) if names else "none"


def _fix(kind: str, name: str) -> str:
    flag = "--" + name.replace("_", "-")
    return (f"pass one of them with {flag}, or add it to the config first" if kind != "secret"
            else f"pass one of them with {flag}, or add it to secrets.required (or the target's secrets list) first")


def _why_unset(kind: str, names: list[str] | tuple[str, ...] | None, takes_the_only_one: bool, resources: WorkerResources,
               target: Target, name: str, spec: str) -> str:
    flag, table = "--" + name.replace("_", "-"), f"[targets.{target.name}.params.{spec}]"
    if names is None:
        return f"{resources.where} declares no secrets (secrets.required) and the target lists none; pass {flag}"
    if not names:
        return f"{resources.where} names no {KINDS[kind]}"
    if takes_the_only_one:
        return f"{resources.where} names several ({_listed(names)}): pass {flag}, or set {name} in {table}"
    return f"not set: pass {flag}, or set {name} in {table} (the config names {_listed(names)})"

