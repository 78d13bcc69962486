"""The strangers' corpus: Cloudflare's create-cloudflare templates, made into Worker repositories and rehearsed.

tests/corpus/corpus.toml names the package (pinned, with the registry's integrity) and,
per Worker, its template folder and any overlay. For each Worker, `make_repo` builds
the repository as create-cloudflare would, with wrangler in its node_modules and the
targets.toml of docs/worker-repo.md; `rehearse` then runs, as a new user following that
page, every step of `STEPS` that applies, with the tool installed from this checkout
(testing/worker_repo.py). `python bench/corpus.py` prints the table; `pytest -m corpus`
runs the same per Worker.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from testing.worker_repo import REPO, clean_env

MANIFEST = REPO / "tests" / "corpus" / "corpus.toml"
WORKER_REPO_DOC = REPO / "docs" / "worker-repo.md"
CORPUS_DOC = REPO / "docs" / "corpus.md"
BEGIN = "<!-- corpus-results: written by `python bench/corpus.py --docs` from its run, never by hand -->"
END = "<!-- corpus-results: end -->"
STEP_TIMEOUT = 600  # a rollback that waits out its 300 s deadline, with room
DOES_NOT_APPLY = "does not apply"


@dataclass(frozen=True)
class Entry:
    name: str
    template: str
    bindings: tuple[str, ...]
    why: str = ""
    overlay: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    dependencies: dict[str, str] = field(default_factory=dict)
    health: str = ""  # a path its code answers, for the targets.toml's health line (its / is a static asset)


@dataclass(frozen=True)
class Manifest:
    package: str
    version: str
    integrity: str
    source: str
    compatibility_date: str
    workers: tuple[Entry, ...]


class ManifestError(ValueError):
    pass


def load(path: Path = MANIFEST) -> Manifest:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    missing = [k for k in ("package", "version", "integrity", "source", "compatibility_date", "worker") if k not in data]
    if missing:
        raise ManifestError(f"{path}: missing {', '.join(missing)}")
    known = set(Entry.__dataclass_fields__)
    workers = []
    for i, raw in enumerate(data["worker"]):
        unknown = sorted(set(raw) - known)
        if unknown or "name" not in raw or "template" not in raw:
            raise ManifestError(f"{path}: [[worker]] #{i + 1}: needs name and template"
                                + (f"; unknown keys {', '.join(unknown)}" if unknown else ""))
        workers.append(Entry(**{**raw, "bindings": tuple(raw.get("bindings", ()))}))
    names = [w.name for w in workers]
    if len(set(names)) != len(names):
        raise ManifestError(f"{path}: worker names repeat: {names}")
    return Manifest(data["package"], data["version"], data["integrity"], data["source"], data["compatibility_date"],
                    tuple(workers))


def cache_dir() -> Path:
    return Path(os.environ.get("OPS_CORPUS_CACHE") or Path.home() / ".cache" / "cfw-remedy" / "corpus")


def templates(manifest: Manifest, cache: Path | None = None) -> Path:
    """The package's unpacked folder: `npm pack`ed once into the cache, its integrity checked against the manifest's."""
    folder = (cache or cache_dir()) / f"{manifest.package}-{manifest.version}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        unpacked = folder / "package"
        if (unpacked / "package.json").is_file():
            return unpacked
        done = subprocess.run(["npm", "pack", f"{manifest.package}@{manifest.version}", "--silent",
                               "--pack-destination", str(folder)], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"npm pack {manifest.package}@{manifest.version} failed: {done.stderr[-1000:]}")
        tgz = folder / done.stdout.strip().splitlines()[-1]
        got = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
        if got != manifest.integrity:
            raise RuntimeError(f"{tgz}: integrity {got}, the manifest pins {manifest.integrity}")
        with tarfile.open(tgz) as archive:
            archive.extractall(folder, filter="data")
        return unpacked


def targets_toml(health: str = "", doc: Path = WORKER_REPO_DOC) -> str:
    """The targets.toml a new user writes: the one docs/worker-repo.md shows, taken from its heredoc; with a health
    path, its commented-out `health` line set to it, as that line invites."""
    found = re.search(r"cat > targets\.toml <<'TOML'\n(.*?\n)TOML\n", doc.read_text(encoding="utf-8"), re.DOTALL)
    if found is None:
        raise RuntimeError(f"{doc}: no `cat > targets.toml <<'TOML'` block to follow")
    text = found.group(1)
    if health:
        text, count = re.subn(r"^# health = \{[^}]*\}", f'health = {{ path = "{health}", status = 200 }}', text,
                              flags=re.MULTILINE)
        if count != 1:
            raise RuntimeError(f"{doc}: the targets.toml example has no `# health = {{ … }}` line to set")
    return text


def make_repo(entry: Entry, manifest: Manifest, package: Path, root: Path) -> Path:
    """The Worker's repository as create-cloudflare makes it, plus the entry's overlay, wrangler, and our targets.toml."""
    repo = root / entry.name
    shutil.copytree(package / entry.template, repo)
    for dummy in repo.rglob("__dot__*"):
        dummy.rename(dummy.with_name("." + dummy.name.removeprefix("__dot__")))
    fill = {"<WORKER_NAME>": entry.name, "<PACKAGE_NAME>": entry.name, "<COMPATIBILITY_DATE>": manifest.compatibility_date}
    for path in repo.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            for placeholder, value in fill.items():
                text = text.replace(placeholder, value)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
    if entry.overlay:
        apply_overlay(repo / "wrangler.jsonc", entry.overlay)
    for name, text in entry.files.items():
        (repo / name).write_text(text, encoding="utf-8")
    with open(repo / ".gitignore", "a", encoding="utf-8") as ignore:  # as docs/worker-repo.md asks
        ignore.write("\n.sandbox/\n.journal/\n.dev.vars*\nnode_modules/\n")
    (repo / "targets.toml").write_text(targets_toml(entry.health), encoding="utf-8")
    if entry.dependencies:
        install_dependencies(repo, entry.dependencies)
    link_wrangler(repo)
    for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.email=corpus@example.com", "-c", "user.name=corpus", "commit", "-qm", entry.name]):
        subprocess.run(argv, cwd=repo, check=True, capture_output=True, timeout=60)
    return repo


def apply_overlay(config: Path, overlay: dict[str, Any]) -> None:
    """Merge top-level keys into a wrangler.jsonc (written back as plain JSON: the template's comments go)."""
    from ops.documents.config import load_config

    data = dict(load_config(config).data)
    data.update(overlay)
    config.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def install_dependencies(repo: Path, pinned: dict[str, str]) -> None:
    """What `npm install` gives the template's imports, at pinned versions (its dev tools are left out)."""
    # --legacy-peer-deps: the openapi template's own dev tools conflict (@cloudflare/workers-types ^5 against its
    # wrangler's peerOptional ^4), which a plain `npm install` of that template refuses with ERESOLVE.
    done = subprocess.run(["npm", "install", "--omit=dev", "--no-save", "--no-package-lock", "--ignore-scripts",
                           "--legacy-peer-deps",
                           "--no-audit", "--no-fund", "--loglevel=error", "--cache", str(cache_dir() / "npm"),
                           *(f"{name}@{version}" for name, version in pinned.items())],
                          cwd=repo, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"npm install in {repo} failed: {done.stderr[-1000:]}")


def link_wrangler(repo: Path) -> None:
    """The repo's node_modules/.bin/wrangler, as `npm install` leaves it, but this checkout's pinned wrangler."""
    bin_ = repo / "node_modules" / ".bin"
    bin_.mkdir(parents=True, exist_ok=True)
    (bin_ / "wrangler").symlink_to(REPO / "node_modules" / ".bin" / "wrangler")
    (repo / "node_modules" / "wrangler").symlink_to(REPO / "node_modules" / "wrangler")


# ---- the rehearsal -------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    step: str
    ok: bool | None          # None: not run (does not apply, or an earlier step left nothing to run on)
    code: int | None = None
    seconds: float = 0.0
    detail: str = ""

    def cell(self) -> str:
        if self.ok is None:
            return "–" if self.detail == DOES_NOT_APPLY else "not run"
        if self.code is None:
            return "FAIL"
        return f"{'ok' if self.ok else 'FAIL'} {self.code} {self.seconds:.0f}s"


Judge = Callable[[int, str], tuple[bool, str]]


def exit_zero(code: int, out: str) -> tuple[bool, str]:
    return code == 0, ""


def no_symptom(code: int, out: str) -> tuple[bool, str]:
    try:
        findings = json.loads(out).get("findings") or []
    except (ValueError, AttributeError):
        return False, "no JSON"
    symptoms = sorted({f["remediation"] for f in findings if f.get("status") == "symptom"})
    unknown = sorted({f["remediation"] for f in findings if f.get("status") == "unknown"})
    said = (f"symptoms: {', '.join(symptoms)}" if symptoms else "") + (f" unknown: {', '.join(unknown)}" if unknown else "")
    return code == 0 and not symptoms, said.strip()


def verified(code: int, out: str) -> tuple[bool, str]:
    try:
        result = json.loads(out)
    except ValueError:
        return False, "no JSON"
    message = str(result.get("message", ""))
    return code == 0 and result.get("status") == "ok" and message.startswith("verified"), message[:300]


@dataclass(frozen=True)
class Step:
    name: str
    argv: tuple[str, ...]
    judge: Judge = exit_zero
    applies: Callable[["Facts"], bool] = lambda facts: True
    env: Callable[["Facts"], dict[str, str]] = lambda facts: {}
    answers_break: bool = False  # run what the break before it printed ("answered by …"), as a user would


@dataclass(frozen=True)
class Facts:
    """What the steps need to know of the Worker: read from its repository as a user reads it."""
    secret: str | None          # the first secret in .dev.vars, which secret-missing deletes
    secret_value: str
    queue: str | None           # the queue it consumes, which consumer-detached detaches
    assets_only: bool = False   # assets and no main module: no code runs, so it cannot hang (worker-hang refuses)


def facts(repo: Path) -> Facts:
    from ops.documents.config import load_config
    from ops.sandbox.own import assets_only, parse_dotenv

    dev_vars = repo / ".dev.vars"
    secrets = parse_dotenv(dev_vars.read_text(encoding="utf-8")) if dev_vars.is_file() else {}
    config = next((repo / n for n in ("wrangler.jsonc", "wrangler.json", "wrangler.toml") if (repo / n).is_file()))
    consumers = (load_config(config).data.get("queues") or {}).get("consumers") or []
    first = sorted(secrets)[0] if secrets else None
    return Facts(first, secrets.get(first, "") if first else "", consumers[0]["queue"] if consumers else None,
                 assets_only(config, ""))


OWN = ("--target", "sandbox-own")
STEPS: tuple[Step, ...] = (
    Step("sandbox.up", ("sandbox.up",)),
    Step("diagnose", ("diagnose", *OWN, "--json"), no_symptom),
    Step("bad-deploy", ("sandbox.break", "bad-deploy")),
    Step("rollback", ("remediate.rollback", *OWN, "--yes", "--json"), verified, answers_break=True),
    # An assets-only Worker's bad-deploy leaves its site out of the assets; it runs no code, so it cannot hang.
    Step("worker-hang", ("sandbox.break", "worker-hang"), applies=lambda f: not f.assets_only),
    Step("rollback 2", ("remediate.rollback", *OWN, "--yes", "--json"), verified, applies=lambda f: not f.assets_only,
         answers_break=True),
    # After a rollback the latest version is not the deployed one, and Cloudflare refuses secret edits (10215):
    # the next scenarios start from the Worker's latest code, as docs/worker-repo.md says sandbox.reset gives.
    Step("reset", ("sandbox.reset",), applies=lambda f: f.secret is not None or f.queue is not None),
    Step("secret-missing", ("sandbox.break", "secret-missing"), applies=lambda f: f.secret is not None),
    Step("secret-rotation", ("remediate.secret-rotation", *OWN, "--yes", "--json", "--create", "--name", "{secret}",
                             "--value", "env:{secret}"), verified, applies=lambda f: f.secret is not None,
         env=lambda f: {f.secret: f.secret_value} if f.secret else {}, answers_break=True),
    Step("consumer-detached", ("sandbox.break", "consumer-detached"), applies=lambda f: f.queue is not None),
    Step("queue-redeploy", ("remediate.queue-redeploy", *OWN, "--yes", "--json", "--queue", "{queue}"), verified,
         applies=lambda f: f.queue is not None, answers_break=True),
    Step("check.all", ("check.all",)),
    Step("down", ("sandbox.down",)),
)
NEEDS_UP = {s.name for s in STEPS} - {"sandbox.up", "check.all", "down"}
UNTOUCHED = "untouched"


def rehearse(repo: Path, bin_: Path, log: Callable[[str], None] = lambda line: None) -> list[Outcome]:
    """Every step on the Worker in `repo`, in order; the team's files must come out untouched."""
    known = facts(repo)
    env = {k: v for k, v in clean_env(PATH=f"{bin_}{os.pathsep}{os.environ['PATH']}").items()
           if not k.startswith("CLOUDFLARE_")}  # a new user's shell: nothing of ours, no account
    outcomes: list[Outcome] = []
    up = True
    printed: list[str] = []
    try:
        for step in STEPS:
            if not step.applies(known):
                outcomes.append(Outcome(step.name, None, detail=DOES_NOT_APPLY))
                continue
            if not up and step.name in NEEDS_UP:
                outcomes.append(Outcome(step.name, None, detail="sandbox not up"))
                continue
            argv = [a.format(secret=known.secret, queue=known.queue) for a in step.argv]
            if step.answers_break and printed:
                argv = [*printed[1:], *OWN, "--yes", "--json"]
            started = time.monotonic()
            done = subprocess.run([str(bin_ / "cfw-remedy"), *argv], cwd=repo, env={**env, **step.env(known)},
                                  capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False)
            ok, said = step.judge(done.returncode, done.stdout)
            printed = answered_by(done.stdout) if argv[0] == "sandbox.break" else printed
            if not ok and not said:
                said = _last_words(done.stdout + done.stderr)
            outcome = Outcome(step.name, ok, done.returncode, time.monotonic() - started, said)
            outcomes.append(outcome)
            log(f"  {outcome.step:<24} {outcome.cell():<16} {said if not ok else ''}".rstrip())
            if step.name == "sandbox.up" and not ok:
                up = False
    finally:
        if (repo / ".sandbox").exists():  # never leave an emulator or workerd behind
            subprocess.run([str(bin_ / "cfw-remedy"), "sandbox.down"], cwd=repo, env=env, capture_output=True,
                           timeout=120, check=False)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, timeout=60).stdout
    outcomes.append(Outcome(UNTOUCHED, not status.strip(), 0 if not status.strip() else 1, 0.0,
                            status.strip().replace("\n", "; ")[:200]))
    return outcomes


def answered_by(output: str) -> list[str]:
    """The command a break says answers it: ``… (name; answered by cfw-remedy remediate.rollback --flag v)``."""
    found = re.search(r"answered by (.+)\)\s*$", output, re.MULTILINE)
    return shlex.split(found.group(1)) if found else []


def unmade(error: Exception) -> list[Outcome]:
    """The row of a Worker whose repository could not be made: its first step fails with why."""
    return [Outcome(STEPS[0].name, False, None, 0.0, f"the repository could not be made: {_last_words(str(error))}")]


def _last_words(output: str) -> str:
    """The error a user would read: from the first `error:` or wrangler's `[ERROR]` line on, else the last lines."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if line.lower().startswith("error") or "[ERROR]" in line), None)
    return " | ".join(lines[first:first + 3] if first is not None else lines[-3:])[:300]


def columns() -> list[str]:
    return [s.name for s in STEPS] + [UNTOUCHED]


def table(results: dict[str, list[Outcome]]) -> str:
    """Markdown: Worker × step → result, exit code and seconds."""
    heads = columns()
    lines = ["| Worker | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for worker, outcomes in results.items():
        cells = []
        by_step = {o.step: o for o in outcomes}
        for head in heads:
            found = by_step.get(head)
            cells.append(found.cell() if found else "")
        lines.append(f"| {worker.removeprefix('corpus-')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failures(results: dict[str, list[Outcome]]) -> list[str]:
    return [f"{worker} / {o.step}: exit {o.code}: {o.detail}"
            for worker, outcomes in results.items() for o in outcomes if o.ok is False]


def results_block(results: dict[str, list[Outcome]], *, command: str, when: str, seconds: float, package: str,
                  cpus: int | None) -> str:
    """The docs' results: the command, when, how long, the table, and each failed step's error line."""
    failed = failures(results)
    lines = [BEGIN, "", f"The last run: `{command}`, {when.replace('T', ' ')[:16]} UTC, {package}, "
                        f"{seconds / 60:.0f} minutes on {cpus or '?'} shared cores.",
             "Each cell gives the result, the exit code and the seconds; `–` means the step does not apply.", "",
             table(results), ""]
    if failed:
        lines += ["The failed steps' error lines, as the script printed them:", "", "```text",
                  *(f"- {line}" for line in failed), "```"]
    else:
        lines.append("No step failed.")
    return "\n".join([*lines, "", END])


def write_docs(block: str, doc: Path = CORPUS_DOC) -> None:
    """Put ``block`` in place of the one between the markers in ``doc``."""
    text = doc.read_text(encoding="utf-8")
    start, end = text.find(BEGIN.split(":")[0] + ":"), text.find(END)
    if start < 0 or end < start:
        raise RuntimeError(f"{doc}: no `{BEGIN}` … `{END}` block to write the results into")
    doc.write_text(text[:start] + block + text[end + len(END):], encoding="utf-8")
