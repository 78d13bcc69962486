"""A small GitHub Actions runner for the suite: a workflow's `run:` steps, executed with bash as a runner would.

It lays nothing out itself: the test gives it a workspace laid out as the calling
repository. It evaluates the expression subset our workflows use (contexts,
``!``, ``&&``, ``||``, ``==``, ``!=``, ``format()``, ``always()``, ``success()``),
sets the ``GITHUB_*`` variables (a fresh ``GITHUB_OUTPUT`` file per step, read back
into ``steps.<id>.outputs``), runs ``run:`` steps with ``bash --noprofile --norc
-eo pipefail`` in their working directory, expands composite actions and reusable
workflows, and hands ``uses:`` steps of other actions to handlers the test gives
(checkout, setup-*, upload-artifact, wrangler-action are not ours to execute).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML

Handler = Callable[["Job", dict[str, Any], dict[str, str]], None]
TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>&&|\|\||==|!=|[!(),])"
                   r"|(?P<name>[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*))")


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    if True in doc:  # YAML 1.1 reads the key `on` as true
        doc["on"] = doc.pop(True)
    return doc


# --- expressions ------------------------------------------------------------------------------------------

class Expression:
    def __init__(self, text: str, contexts: dict[str, Any]) -> None:
        self.tokens = [m for m in TOKEN.finditer(text) if m.group().strip()]
        self.at = 0
        self.contexts = contexts

    def value(self) -> Any:
        result = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at].group()!r}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at].group().strip() if self.at < len(self.tokens) else None

    def _take(self) -> re.Match[str]:
        self.at += 1
        return self.tokens[self.at - 1]

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!="):
            op = self._take().group().strip()
            right = self._unary()
            same = str(left).lower() == str(right).lower() if isinstance(left, str) or isinstance(right, str) else left == right
            left = same if op == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._atom()

    def _atom(self) -> Any:
        token = self._take()
        if token.group("str") is not None:
            return token.group("str")[1:-1].replace("''", "'")
        if token.group("num") is not None:
            return float(token.group("num"))
        if token.group().strip() == "(":
            inner = self._or()
            self._take()
            return inner
        name = token.group("name")
        if self._peek() == "(":
            self._take()
            args: list[Any] = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._take()
            self._take()
            return self._call(name, args)
        if name in ("true", "false"):
            return name == "true"
        if name == "null":
            return None
        value: Any = self.contexts
        for part in re.findall(r"[\w-]+", name):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda m: text(args[int(m.group(1)) + 1]), str(args[0]))
        if name == "always":
            return True
        if name == "success":
            return not self.contexts.get("_failed")
        if name == "failure":
            return bool(self.contexts.get("_failed"))
        raise ValueError(f"unsupported function {name}()")


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, 0.0, "")


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def render(value: Any, contexts: dict[str, Any]) -> Any:
    """``${{ }}`` in a string: a lone expression keeps its type; embedded ones become text."""
    if isinstance(value, dict):
        return {k: render(v, contexts) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", value, re.S)
    if whole:
        return Expression(whole.group(1), contexts).value()
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: text(Expression(m.group(1), contexts).value()), value, flags=re.S)


def condition(expr: Any, contexts: dict[str, Any]) -> bool:
    if expr is None:
        return not contexts.get("_failed")
    source = str(expr).strip()
    source = source[3:-2] if source.startswith("${{") else source
    if not re.search(r"\b(always|success|failure|cancelled)\(", source):
        source = f"success() && ({source})"
    return truthy(Expression(source, contexts).value())


# --- jobs ------------------------------------------------------------------------------------------------

@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Job:
    workspace: Path
    temp: Path
    base_env: dict[str, str]
    github: dict[str, Any]
    inputs: dict[str, Any]
    secrets: dict[str, str]
    handlers: dict[str, Handler]
    actions: dict[str, Path] = field(default_factory=dict)  # a `uses:` prefix -> a composite action's folder
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: list[StepRun] = field(default_factory=list)
    failed: bool = False
    summary: Path | None = None

    def contexts(self, **extra: Any) -> dict[str, Any]:
        return {"github": self.github, "inputs": self.inputs, "secrets": self.secrets, "steps": self.steps,
                "runner": {"temp": str(self.temp), "os": "Linux"}, "env": {}, "_failed": self.failed, **extra}

    def run_steps(self, steps: list[dict[str, Any]], *, inputs: dict[str, Any] | None = None,
                  action_path: Path | None = None, job_env: dict[str, str] | None = None) -> None:
        for step in steps:
            ctx = self.contexts(**({"inputs": inputs} if inputs is not None else {}))
            if not condition(step.get("if"), ctx):
                continue
            env = {**(job_env or {}), **{k: text(render(v, ctx)) for k, v in (step.get("env") or {}).items()}}
            if "run" in step:
                self._run(step, render(step["run"], ctx), env, ctx, action_path)
            else:
                self._uses(step, render(step.get("with") or {}, ctx), env)

    def _run(self, step: dict[str, Any], script: str, env: dict[str, str], ctx: dict[str, Any],
             action_path: Path | None) -> None:
        folder = self.workspace / text(render(step.get("working-directory", "."), ctx))
        output = self.temp / f"output-{len(self.runs)}"
        output.write_text("", encoding="utf-8")
        self.summary = self.summary or self.temp / "step-summary.md"
        variables = {**self.base_env, "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_OUTPUT": str(output),
                     "GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_ENV": str(self.temp / "env"),
                     "GITHUB_PATH": str(self.temp / "path"), "RUNNER_TEMP": str(self.temp), "CI": "true",
                     "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": str(self.github.get("event_name", "")),
                     "GITHUB_RUN_ID": str(self.github.get("run_id", "")),
                     "GITHUB_REPOSITORY": str(self.github.get("repository", "")), **env}
        if action_path is not None:
            variables["GITHUB_ACTION_PATH"] = str(action_path)
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=folder,
                              env=variables, capture_output=True, text=True, timeout=600)
        name = str(step.get("name") or step.get("id") or script.splitlines()[0])
        self.runs.append(StepRun(name, done.returncode, done.stdout, done.stderr))
        if step.get("id"):
            self.steps[str(step["id"])] = {"outputs": read_outputs(output),
                                           "outcome": "success" if done.returncode == 0 else "failure"}
        if done.returncode != 0:
            self.failed = True

    def _uses(self, step: dict[str, Any], args: dict[str, Any], env: dict[str, str]) -> None:
        uses = str(step["uses"])
        for prefix, folder in self.actions.items():
            if uses.startswith(prefix):
                action = load(folder / "action.yml")
                declared = action.get("inputs") or {}
                inputs = {k: text(args.get(k, v.get("default", ""))) for k, v in declared.items()}
                self.run_steps(action["runs"]["steps"], inputs=inputs, action_path=folder)
                return
        for prefix, handler in self.handlers.items():
            if uses.startswith(prefix):
                handler(self, args, env)
                return
        raise AssertionError(f"no handler for uses: {uses}")


def read_outputs(path: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            key, marker = line.split("<<", 1)
            body: list[str] = []
            for more in lines:
                if more == marker:
                    break
                body.append(more)
            outputs[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs


def run_workflow_job(job: Job, workflow: dict[str, Any], name: str) -> None:
    spec = workflow["jobs"][name]
    ctx = job.contexts()
    job_env = {k: text(render(v, ctx)) for k, v in (spec.get("env") or {}).items()}
    job.run_steps(spec["steps"], job_env=job_env)
