"""What an action type is, and what it gets to run with.

An action type is one small module: a class with a pydantic ``Args`` model
(validated from the step's ``with:``), the effect it has on the world, whether
it is safe to repeat, and ``run``. The engine, not the action, decides whether
it may run (dry-run never runs a ``write`` or ``destructive`` step).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict

from ops.documents.shape import ANY, Shape, from_json_schema

if TYPE_CHECKING:
    import httpx

    from ops.targets import Target

Outputs = dict[str, Any]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True)
class UndoCall:
    """An undo that an action type supplies: another action and its arguments."""

    action: str
    args: Mapping[str, Any]
    description: str
    after: tuple[str, ...] = ("step-failed",)  # as an UndoStep's `after:`


@dataclass
class Context:
    """What an action runs with. Built by the engine, one per run."""

    target: Target
    dry_run: bool
    timeout: float = 60.0
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Any = None  # callable(str) for long actions, or None
    journal: Any = None  # callable(kind, **fields): journal an event of a long action as it happens, or None
    _http: httpx.Client | None = None
    _cloudflare: Any = None
    _started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return max(0.1, self.timeout - (time.monotonic() - self._started))

    def http(self) -> httpx.Client:
        if self._http is None:
            from ops import http
            from ops.egress import EgressTransport

            guarded = EgressTransport(http.scheme_transport(), self.target.egress(), read_only=self.dry_run)
            self._http = http.client(read_only=self.dry_run, transport=guarded)
        return self._http

    def cloudflare(self) -> Any:
        if self._cloudflare is None:
            import importlib

            client = importlib.import_module("ops.cloudflare").CloudflareClient
            self._cloudflare = client.from_target(self.target, read_only=self.dry_run)
        return self._cloudflare

    def for_step(self, timeout: float) -> Context:
        return Context(self.target, self.dry_run, timeout, self.cancel, self.progress, self.journal,
                       self._http, self._cloudflare)

    def adopt(self, other: Context) -> None:
        """Keep clients a per-step context created, so they are reused and closed once."""
        self._http = self._http or other._http
        self._cloudflare = self._cloudflare or other._cloudflare

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self._cloudflare is not None:
            self._cloudflare.close()


class Action:
    """Base class of action types. Subclasses set ``name`` and ``Args`` and implement ``run``."""

    name: ClassVar[str]
    Args: ClassVar[type[Args]]
    summary: ClassVar[str] = ""
    # What ``run`` returns: expectations and later steps' references are checked against it.
    outputs: ClassVar[Shape] = ANY
    # Arguments that are URLs: a value substituted into one is percent-encoded for where it lands.
    url_keys: ClassVar[frozenset[str]] = frozenset()

    def with_shape(self, with_: Mapping[str, Any]) -> Shape:
        """What the spec's ``with:`` may hold, given its (unresolved) value: ``Args``, unless the arguments nest."""
        return _args_shape(type(self).Args)

    def outputs_for(self, with_: Mapping[str, Any]) -> Shape:
        """The outputs of a call with this (unresolved) ``with:``; differs from ``outputs`` where they depend on it."""
        return self.outputs

    def nested_expectations(self, with_: Mapping[str, Any]) -> dict[str, tuple[str, Shape]]:
        """Keys of ``with:`` that hold expectations of their own: the action they judge, and its outputs."""
        return {}

    def effect(self, args: Any) -> str | None:
        """The least effect this call has: 'read', 'write', 'destructive', or None if unknowable."""
        return "read"

    def safe_to_retry(self, args: Any) -> bool:
        return self.effect(args) == "read"

    def sends_in_plan(self, args: Any) -> bool:
        """Whether a read of this call may run in a plan; False for one the read-only transport would refuse."""
        return True

    def describe(self, args: Any) -> str:
        return self.name

    def default_undo(self, args: Any, outputs: Outputs) -> UndoCall | None:
        """The undo this action type supplies for a completed write, if any."""
        return None

    def supplies_undo(self, args: Any) -> bool:
        return False

    def preflight(self, args: Any) -> Outputs | None:
        """Local, read-only checks of a write's inputs, run in plans too (e.g. validate a key file).

        Raise ``InputError`` for bad input; return facts worth showing in the plan, or None.
        """
        return None

    def run(self, args: Any, ctx: Context) -> Outputs:
        raise NotImplementedError


_SHAPES: dict[type[BaseModel], Shape] = {}


def _args_shape(model: type[BaseModel]) -> Shape:
    if model not in _SHAPES:
        _SHAPES[model] = from_json_schema(model.model_json_schema())
    return _SHAPES[model]
