"""The remediation spec format, as pydantic models: the one source of truth.

``schemas/remediation.schema.json`` is generated from these models (see
``ops.engine.schema``), and a test fails when the committed file is stale.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Effect = Literal["read", "write", "destructive"]
EFFECT_RANK: dict[str, int] = {"read": 0, "write": 1, "destructive": 2}
ParamType = Literal["string", "integer", "number", "boolean", "secret", "path"]
SecretSource = Literal["env", "stdin", "file", "generate"]
ConfigKind = Literal["queue", "dead-letter-queue", "d1-database", "kv-namespace", "r2-bucket", "secret"]  # ops.documents.worker_resources.KINDS

NAME_PATTERN = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"
PARAM_PATTERN = r"^[a-z][a-z0-9_]*$"
RESERVED_FLAGS = frozenset({"dry_run", "yes", "json", "plan", "plan_out", "plan_ttl", "target", "save_value", "deadline"})  # ops.cli's BUILTIN_FLAGS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Generate(_Strict):
    """How `--<param> generate` makes a value."""

    bytes: int = Field(32, ge=16, le=256, description="Random bytes to draw from the OS CSPRNG.")
    encoding: Literal["base64", "hex", "base64url"] = Field("base64", description="How the bytes are encoded.")


class Param(_Strict):
    """A typed parameter: it becomes a `--flag` of the compiled task."""

    type: ParamType = Field(description="The value's type. A `secret` takes a source, never the value itself.")
    help: str = Field(min_length=1, description="One line shown by `inv --help remediate.<name>`.")
    default: str | int | float | bool | None = Field(
        None, description="The value when the flag is not given. For a secret: a source such as `env:NAME`."
    )
    required: bool = Field(False, description="The run refuses to start without it.")
    pattern: str | None = Field(None, description="A regular expression a string value must match in full.")
    minimum: float | None = Field(None, description="The smallest allowed number.")
    maximum: float | None = Field(None, description="The largest allowed number.")
    choices: list[str] | None = Field(None, description="The only values allowed.")
    sources: list[SecretSource] = Field(
        default=["env", "stdin", "file", "generate"],
        description="For a secret: where its value may come from (`env:NAME`, `stdin`, `file:PATH`, `generate`).",
    )
    generate: Generate = Field(default=Generate(bytes=32, encoding="base64"), description="For a secret: how `generate` makes one.")
    config: ConfigKind | None = Field(
        None, description="What the value names in the Worker's wrangler config, for the target's env: `queue` (a queue it "
                          "consumes), `dead-letter-queue` (the one the config gives the consumer of the spec's `queue` param), "
                          "`d1-database`, `kv-namespace`, `r2-bucket` or `secret` (secrets.required). With a config, a value "
                          "it does not name is refused (exit 2), and with no value given and no `default`, the only one it names is "
                          "used (a `default: \"\"` keeps the param opt-in).")


UndoTrigger = Literal["step-failed", "verify-failed"]
Matcher = Any  # a literal (equality) or {op: value}; ops in ops.judge.expect


class Check(_Strict):
    """A read-only probe and what its outputs must satisfy."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique within the spec; outputs are `steps.<name>.outputs`.")
    action: str = Field(description="An action type, e.g. `http`, `cloudflare`, `wrangler`.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="The action's arguments; `{{ … }}` refers to params, target and earlier steps.")
    expect: dict[str, Matcher] = Field(
        default_factory=dict,
        description="Dotted paths into the outputs, each with a value or `{op: value}` (==, !=, <, <=, >, >=, in, not_in, contains, not_contains, matches, exists).",
    )
    description: str | None = Field(None, description="What this checks, in words for the plan and the report.")
    when: str | None = Field(None, description="Run only if this holds: `params.x`, `not params.x`, `steps.s.outputs.k`.")
    timeout: float = Field(30.0, gt=0, le=3600, description="Seconds before the probe counts as failed.")


class Precondition(Check):
    """Checked before any change. Its verdict decides: go on, stop (exit 3), or end as a no-op.

    An inconclusive precondition (it could not tell) stops an `abort` precondition, and
    otherwise lets the run go on: a no-op needs evidence that there is nothing to do.
    `on_inconclusive: abort` stops it whatever `on_fail` says (a rollback of a Worker
    whose health is unknown waits for evidence, or for --force).
    """

    on_fail: Literal["abort", "noop", "continue"] = Field(
        "abort", description="When it fails: `abort` (exit 3), `noop` (nothing to do; exit 0 and say why), or `continue`."
    )
    on_pass: Literal["continue", "noop"] = Field(
        "continue", description="When it passes: `continue`, or `noop` (e.g. the Worker is healthy: nothing to roll back)."
    )
    on_inconclusive: Literal["abort", "continue"] | None = Field(
        None, description="When it cannot tell: `abort` (exit 3) or `continue`. Default: `abort` when `on_fail` is `abort`, "
                          "else `continue`.")
    reason: str | None = Field(None, description="Said when the precondition stops the run, e.g. why there is nothing to do.")

    @property
    def stops_when_inconclusive(self) -> bool:
        return (self.on_inconclusive or ("abort" if self.on_fail == "abort" else "continue")) == "abort"


class Probe(Check):
    """A read-only symptom probe for `inv diagnose`: when its expectation fails, the symptom is present."""

    finding: str = Field(min_length=1, description="What a failed probe means, e.g. `cache hit rate is low`.")
    suggest: str = Field("", description="Flags to add to the suggested `inv remediate.<name>` command.")


class Step(_Strict):
    """One action of the remediation, with its declared effect on the world."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique within the spec; outputs are `steps.<name>.outputs`.")
    action: str = Field(description="An action type, e.g. `http`, `cloudflare`, `wrangler`, `edit`.")
    effect: Effect = Field(description="`read` probes run in dry-run; `write` needs an undo; `destructive` needs `irreversible`.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="The action's arguments.")
    expect: dict[str, Matcher] = Field(default_factory=dict, description="What the outputs must satisfy for the step to pass.")
    undo: str | None = Field(None, description="The name of an entry in `undo:` that reverses this step.")
    undo_after: list[UndoTrigger] | None = Field(
        None, description="For an undo the action type supplies (e.g. `edit` restores the file): when it runs, "
                          "as an undo entry's `after:`. Default: only after a failed step.")
    irreversible: str | None = Field(None, min_length=1, description="Why a destructive step cannot be undone.")
    description: str | None = Field(None, description="What this step does, in words.")
    when: str | None = Field(None, description="Run only if this holds: `params.x`, `not params.x`, `steps.s.outputs.k`.")
    timeout: float = Field(60.0, gt=0, le=3600, description="Seconds the step may take.")
    retries: int = Field(0, ge=0, le=10, description="Extra attempts, used only where the action is safe to repeat.")


class UndoStep(_Strict):
    """A named reversal, referenced by a step's `undo:`."""

    name: str = Field(pattern=NAME_PATTERN, description="Referenced from a step's `undo:`.")
    after: list[UndoTrigger] = Field(
        default=["step-failed"], min_length=0,
        description="When it runs: after a failed step (`step-failed`), after a failed verification "
                    "(`verify-failed`), or both. An inconclusive verification never undoes. Default: only after "
                    "a failed step; add `verify-failed` only where reverting cannot leave production worse.",
    )
    action: str = Field(description="An action type.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="The action's arguments.")
    expect: dict[str, Matcher] = Field(default_factory=dict, description="What the outputs must satisfy.")
    description: str | None = None
    timeout: float = Field(60.0, gt=0, le=3600)


class Verify(_Strict):
    """Checks polled until they all pass (and keep passing for `hold` seconds) or the deadline."""

    deadline: float = Field(60.0, gt=0, le=3600, description="Seconds to wait for all checks to pass.")
    interval: float = Field(2.0, gt=0, le=600, description="Seconds between polls.")
    hold: float = Field(0.0, ge=0, le=3600, description="Once passing, the checks must keep passing this long.")
    give_up_after: float | None = Field(
        None, gt=0, le=3600,
        description="Once a check has seen the Worker failing (its answers: errors, no answer) on every poll for this "
                    "many seconds, the verification fails then, with that evidence, instead of at the deadline.")
    checks: list[Check] = Field(min_length=1, description="Probes that prove the service recovered.")


class Spec(_Strict):
    """A remediation: params, preconditions, steps, verification and undo."""

    schema_: str | None = Field(None, alias="$schema", description="The JSON Schema of this file.")
    name: str = Field(pattern=NAME_PATTERN, description="Becomes `inv remediate.<name>`.")
    summary: str = Field(min_length=1, description="One line: what it fixes.")
    symptoms: list[str] = Field(min_length=1, description="What the on-call engineer sees that this answers.")
    description: str | None = Field(None, description="Longer notes for the README and the incident report.")
    params: dict[str, Param] = Field(default_factory=dict, description="Typed flags of the compiled task.")
    secret_sources: list[str] = Field(
        default_factory=list,
        description="Every `env:NAME` and `file:PATH` that its secret params' defaults read, declared so that the "
                    "operator sees them (in `--help` and the plan). A default naming anything else is refused, and so "
                    "is the tool's own Cloudflare credential (CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_KEY, ...).")
    probes: list[Probe] = Field(default_factory=list, description="Symptom probes that `inv diagnose` runs (read-only).")
    preconditions: list[Precondition] = Field(default_factory=list, description="Read-only checks before any change.")
    steps: list[Step] = Field(min_length=1, description="The actions, in order.")
    verify: Verify = Field(description="How recovery is proven.")
    undo: list[UndoStep] = Field(default_factory=list, description="Named reversals for `write` steps.")
    lock: bool = Field(True, description="Hold the target's lock while running (one remediation at a time).")
    cause: Literal["live-version", "secret", "resource"] = Field(
        "resource", description="What this remediation fixes, for `inv diagnose`'s ranking: `live-version` (its symptoms "
                                "explain every symptom seen through a failing Worker), `secret` (the cause when the "
                                "last deployment changed a secret), or `resource` (anything else).")

