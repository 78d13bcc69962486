"""Property: whatever the secret, no output carries it in any encoding.

Hypothesis draws arbitrary secret strings. Each goes through the real `inv` in a
plan and a failing run of a spec that puts the secret in a header, a query, a
JSON body, a URL, an expectation (whose failure message quotes it) and an undo;
then through `journal.show` and `incident.report`. Every output is scanned:
text for every encoding of the secret (`ops.redact.encodings`), JSON documents
(the `--json` result, the `--plan-out` file, each journal line) value by value,
since a secret like `", "` or `1234` may also be plain JSON syntax or a number.

CI runs the `ci` profile: a fixed seed and a few examples (plus the explicit
ones), about half a minute. `OPS_HYPOTHESIS_PROFILE=soak` (what `inv soak`
should set) draws many more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ops.redact import MIN_SECRET_LEN, encodings
from testing.workspace import REPO, make_workspace
from tests.engine.test_redaction import strings
from tests.fakes.service import Service

settings.register_profile("ci", max_examples=5, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("soak", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("OPS_HYPOTHESIS_PROFILE", "ci")

SPEC = """\
name: leak
summary: A secret that reaches every place a value can go.
symptoms: [tests]
secret_sources: [env:LEAK_SECRET]
params:
  token: {type: secret, default: "env:LEAK_SECRET", help: the secret under test}
preconditions:
  - name: healthy
    action: http
    with: {url: "{{ target.worker_url }}/health", params: {t: "{{ params.token }}"}}
    expect: {status: 200}
steps:
  - name: add-one
    action: http
    effect: write
    with:
      url: "{{ target.worker_url }}/inc"
      method: POST
      headers: {X-Token: "{{ params.token }}"}
      params: {t: "{{ params.token }}"}
      json: {token: "{{ params.token }}", note: "before-{{ params.token }}-after"}
    expect: {status: 200}
    undo: sub-one
verify:
  deadline: 0.3
  interval: 0.1
  checks:
    - name: echoes-the-secret
      action: http
      with: {url: "{{ target.worker_url }}/state?t={{ params.token }}"}
      expect: {json.value: "{{ params.token }}"}
undo:
  - name: sub-one
    action: http
    with: {url: "{{ target.worker_url }}/dec?t={{ params.token }}", method: POST}
"""

SECRETS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                  min_size=MIN_SECRET_LEN, max_size=24)


def _inv(root: Path, env: dict[str, str], *args: str) -> tuple[str, str]:
    """stdout and stderr, decoded from bytes so that a `\\r` in the secret is not folded into a newline."""
    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), *args], capture_output=True,
                          env=env, cwd=root, timeout=60)
    return done.stdout.decode("utf-8", "surrogateescape"), done.stderr.decode("utf-8", "surrogateescape")


@settings(settings.get_profile(PROFILE))
@given(secret=SECRETS)
@example(secret='CANARY-7f3a-pa"ss')
@example(secret="true")
@example(secret="\\u00e9\u00e9 %2F+/=")
def test_no_output_carries_the_secret_in_any_encoding(tmp_path_factory: Any, secret: str) -> None:
    service = Service()
    try:
        ws = make_workspace(tmp_path_factory.mktemp("leak"), service.url)
        ws.add_spec(SPEC, "leak.yaml")
        env = {**ws.env, "LEAK_SECRET": secret}
        plan = ws.root / "plan.json"
        planned, planned_err = _inv(ws.root, env, "remediate.leak", "--dry-run", "--json", "--plan-out", str(plan))
        documents: list[Any] = [json.loads(planned)]  # JSON outputs are checked value by value
        if plan.exists():
            documents.append(json.loads(plan.read_text(encoding="utf-8")))
        texts = [planned_err, *_inv(ws.root, env, "remediate.leak"), *_inv(ws.root, env, "journal.show", "latest"),
                 *_inv(ws.root, env, "incident.report", "latest")]
        files = [p for p in ws.journal.rglob("*") if p.is_file()]
        assert any(p.suffix == ".jsonl" for p in files), texts
        for path in files:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            if path.suffix == ".jsonl":
                documents.extend(json.loads(line) for line in text.splitlines() if line.strip())
            elif text.startswith("{"):
                documents.append(json.loads(text))  # a lock file
            else:
                texts.append(text)  # a crash log
    finally:
        service.stop()
    forms = encodings(secret)
    for document in documents:
        leaked = [s for s in strings(document) if any(f in s for f in forms)]
        assert not leaked, (secret, leaked)
    for text in texts:
        assert not any(f in text for f in forms), (secret, [f for f in forms if f in text], text[:2000])
