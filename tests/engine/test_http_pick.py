"""`http`'s `pick`: a field a param names, judged like any output (a null is evidence; an absent field is not)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx

from ops.actions.base import Context
from ops.actions.http import HttpAction, HttpArgs
from ops.engine.check import check_file
from ops.judge.verdict import Verdict, judge
from ops.targets import Target

LOW = {"picked": {">=": 0.5}}


def _observed(body: Any, pick: str) -> dict[str, Any]:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)))
    target = Target("test", "http://127.0.0.1:9/client/v4", "a" * 32, "ai-api", "http://worker.test", token="t" * 40)
    ctx = Context(target, dry_run=False, _http=client)
    return dict(HttpAction().run(HttpArgs(url="http://worker.test/cache/status", pick=pick), ctx))


def test_a_nested_field_is_picked_and_judged() -> None:
    seen = _observed({"cache": {"hitRate": 0.25, "entries": 3}}, "cache.hitRate")
    assert seen["picked"] == 0.25
    assert judge(seen, LOW, strict_failing=False).verdict is Verdict.FAILED
    assert judge(_observed({"hitRate": 0.75}, "hitRate"), LOW, strict_failing=False).verdict is Verdict.PASSED


def test_neither_a_null_nor_an_absent_field_can_decide_a_threshold() -> None:
    null = judge(_observed({"hitRate": None}, "hitRate"), LOW, strict_failing=False)  # no traffic: no hit rate
    assert null.verdict is Verdict.INCONCLUSIVE and "picked is null (no data)" in null.message
    assert judge(_observed({"hitRate": 0.1}, "hitRate"), LOW, strict_failing=False).verdict is Verdict.FAILED
    absent = _observed({"hit_rate": 0.9}, "hitRate")  # the param names a field this Worker lacks
    assert "picked" not in absent
    judged = judge(absent, LOW, strict_failing=False)
    assert judged.verdict is Verdict.INCONCLUSIVE and "picked is missing" in judged.message


def test_an_expectation_on_picked_needs_a_pick(tmp_path: Path) -> None:
    spec = textwrap.dedent("""\
        name: pick-less
        summary: Expect on a field nobody picked.
        symptoms: [none]
        probes:
          - name: rate
            action: http
            with: {url: "{{ target.worker_url }}/cache/status"}
            expect: {picked: {">=": 0.5}}
            finding: low
        steps:
          - name: look
            action: noop
            effect: read
            with: {reason: looking}
        verify:
          checks:
            - name: up
              action: http
              with: {url: "{{ target.worker_url }}/health", pick: status}
              expect: {picked: ok}
        """)
    path = tmp_path / "pick-less.yaml"
    path.write_text(spec, encoding="utf-8")
    problems = [str(p) for p in check_file(path, display="pick-less.yaml").problems]
    assert len(problems) == 1 and problems[0].startswith("pick-less.yaml:8:14:"), problems
    assert "$.probes[0].expect.picked: action 'http' has no output 'picked'" in problems[0]
