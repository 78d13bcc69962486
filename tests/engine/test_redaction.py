"""Secrets masked in the data, and matched in every encoding an output may carry them in.

The attack (issue 10, point 1): a secret holding `"`, `\\` or a non-ASCII character
came out raw in `--json` and in saved plans, because `dataclasses.asdict`
unwrapped it before masking and the text redactor looked only for the raw form;
and a secret such as `true` made the `--json` output invalid JSON.
"""

from __future__ import annotations

import base64
import json
import shlex
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, Iterator
from urllib.parse import quote, quote_plus

import pytest

from ops.engine.outcome import Outcome, Record
from ops.engine.params import SecretValue
from ops.redact import MARKER, Redactor, encodings
from testing.workspace import Workspace
from tests.engine.test_runs import SPECS
from tests.fakes.service import Service

HARD = ['CANARY-7f3a-pa"ss', "CANARY\\back\\slash", "CANARY-ünï-✓-😀", "CANARY 'single' & $(x)"]


def strings(value: Any) -> Iterator[str]:
    """Every string in JSON data, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize("secret", HARD)
def test_every_encoding_is_masked_in_text(secret: str) -> None:
    redactor = Redactor()
    redactor.register(secret)
    raw = secret.encode()
    forms = [secret, json.dumps(secret), json.dumps(secret, ensure_ascii=False), repr(secret), quote(secret, safe=""),
             quote_plus(secret), shlex.quote(secret), base64.b64encode(raw).decode(),
             base64.b64encode(b"user:" + raw + b"@host").decode(), base64.urlsafe_b64encode(b"xy" + raw).decode()]
    for form in forms:
        text = redactor.redact(f"before {form} after")
        assert not any(e in text for e in encodings(secret)), (form, text)


@pytest.mark.parametrize("secret", ["true", "null", "false", "1234", '", "', "\": \""])
def test_masking_never_breaks_a_json_document(secret: str) -> None:
    redactor = Redactor()
    redactor.register(secret)
    data = {"ok": True, "none": None, "n": 1234, "list": ["a", "b"], "value": secret, "inside": f"x{secret}y"}
    for indent in (None, 2):
        for text in (redactor.dumps(data, indent=indent), redactor.redact(json.dumps(data, indent=indent))):
            back = json.loads(text)
            assert back["ok"] is True and back["none"] is None and back["n"] == 1234
            assert back["value"] == redactor.marker and secret not in back["inside"]


def test_the_marker_never_holds_or_borders_a_secret() -> None:
    redactor = Redactor()
    redactor.register("EDAC")  # a piece of "REDACTED"
    redactor.register("***x")  # the default marker's edge
    text = redactor.redact("EDAC ***x")
    assert "EDAC" not in text and "***x" not in text


def test_as_dict_never_unwraps_a_secret() -> None:
    from ops import redact

    secret = SecretValue('CANARY-as-dict-"q"', "env:Q1")
    redact.register(secret.value)
    outcome = Outcome("s", "t", "dry-run", params={"value": secret})
    outcome.records.append(Record("step", "put", "http", "write", "", args={"headers": {"X": secret},
                                                                              "url": f"https://x/?t={secret}"}))
    data = outcome.as_dict()
    assert data["params"]["value"] == f"<secret: {len(secret.value)} chars from env:Q1>"
    assert data["records"][0]["args"]["headers"]["X"] == f"<secret: {len(secret.value)} chars from env:Q1>"
    assert all("CANARY-as-dict" not in s for s in strings(data))


def _plan_run_show(workspace: Workspace, secret: str) -> tuple[CompletedProcess[str], Path, CompletedProcess[str],
                                                                CompletedProcess[str]]:
    """`poke` with `secret` as its token: a --json plan saved with --plan-out, a --json run, its journal as JSON."""
    workspace.add_spec(SPECS / "poke.yaml")
    workspace.env["TEST_TOKEN"] = secret
    plan = workspace.root / "plan.json"
    planned = workspace.inv("remediate.poke", "--dry-run", "--json", "--plan-out", str(plan))
    ran = workspace.inv("remediate.poke", "--json")
    return planned, plan, ran, workspace.inv("journal.show", "latest", "--json")


@pytest.mark.parametrize("secret", HARD)
def test_fixed_canaries_never_leak_from_json_plans_or_journals(workspace: Workspace, service: Service,
                                                               secret: str) -> None:
    planned, plan, ran, shown = _plan_run_show(workspace, secret)
    assert planned.returncode == 0, planned.stderr
    if secret.isascii():  # an HTTP header cannot carry the others: that run ends in an internal error, also scanned
        assert any(h.get("x-token") == secret for h in service.state.headers)  # it was really sent
    documents = [json.loads(planned.stdout), json.loads(plan.read_text()),
                 *(json.loads(text) for text in (ran.stdout,) if text.strip()),
                 *(json.loads(line) for line in shown.stdout.splitlines())]
    for document in documents:
        assert all("CANARY" not in s for s in strings(document)), document
    for done in (planned, ran, shown):
        assert not any(e in done.stdout + done.stderr for e in encodings(secret))
    for path in (p for p in workspace.journal.rglob("*") if p.is_file()):
        assert not any(e in path.read_text() for e in encodings(secret))


@pytest.mark.parametrize("secret", ["true", "null"])
def test_a_secret_that_is_a_json_word_keeps_the_output_valid(workspace: Workspace, service: Service,
                                                             secret: str) -> None:
    planned, plan, ran, shown = _plan_run_show(workspace, secret)
    assert json.loads(planned.stdout)["exit_code"] == 0
    assert json.loads(plan.read_text())["plan"]["status"] == "planned"
    result = json.loads(ran.stdout)
    assert result["status"] == "ok" and result["params"]["token"] == f"<secret: {len(secret)} chars from env:TEST_TOKEN>"
    assert [json.loads(line)["event"] for line in shown.stdout.splitlines()][-1] == "run-end"
    assert MARKER not in json.dumps(result["exit_code"])


def test_as_dict_is_json_data(tmp_path: Path) -> None:
    data = Outcome("s", "t", "run", records=[Record("step", "a", "http", "write", "d")]).as_dict()
    assert json.loads(json.dumps(data)) == data


def test_a_cut_output_never_leaves_half_a_secret() -> None:
    from ops import redact
    from ops.actions.run import MAX_OUTPUT, _tail

    secret = "CANARY-cut-in-half-0123456789"
    redact.register(secret)
    for cut in range(1, len(secret)):
        output = "x" * (MAX_OUTPUT - cut) + secret + "y" * 3
        assert secret[cut:] not in _tail(output) and len(_tail(output)) <= MAX_OUTPUT
