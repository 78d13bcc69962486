"""The corpus's manifest, repository making and table, without the network or a sandbox (the default run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing import corpus

# The binding types the issue asks the corpus to cover, and the words the manifest uses for them.
REQUIRED = {"Durable Object": "Durable Object (SQLite-backed)", "static assets": "static assets", "queue": "queue consumer",
            "D1": "D1", "KV": "KV", "R2": "R2", "service binding": "service binding", "cron": "cron trigger"}


def test_the_manifest_pins_the_package_and_covers_every_binding_type() -> None:
    manifest = corpus.load()
    assert manifest.package == "create-cloudflare" and manifest.version.count(".") == 2 and "^" not in manifest.version
    assert manifest.integrity.startswith("sha512-")
    assert len(manifest.workers) >= 8
    assert len({w.template for w in manifest.workers}) >= 8  # different templates, not one Worker eight times
    covered = {b for w in manifest.workers for b in w.bindings}
    assert {what: word in covered for what, word in REQUIRED.items()} == dict.fromkeys(REQUIRED, True)
    assert all(w.why for w in manifest.workers if w.overlay or w.files or w.health)  # every overlay says why


def test_a_manifest_with_an_unknown_key_names_the_file_and_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "corpus.toml"
    bad.write_text('package = "p"\nversion = "1.0.0"\nintegrity = "sha512-x"\nsource = "s"\ncompatibility_date = "d"\n'
                   '[[worker]]\nname = "a"\ntemplate = "t"\n[[worker]]\nname = "b"\ntemplat = "t"\n', encoding="utf-8")
    with pytest.raises(corpus.ManifestError, match=r"corpus\.toml: \[\[worker\]\] #2: needs name and template; "
                                                   r"unknown keys templat"):
        corpus.load(bad)


def test_the_targets_toml_is_the_one_the_worker_repo_page_shows() -> None:
    text = corpus.targets_toml()
    assert "[targets." in text and text in corpus.WORKER_REPO_DOC.read_text(encoding="utf-8")
    with_health = corpus.targets_toml("/message")
    changed = [line for line in with_health.splitlines() if line not in text.splitlines()]
    assert changed == ['health = { path = "/message", status = 200 }   # optional: without it, / must answer 200']


def test_a_repository_is_made_as_create_cloudflare_makes_it_with_the_overlay(tmp_path: Path) -> None:
    package = tmp_path / "package"
    template = package / "templates" / "t" / "js"
    (template / "src").mkdir(parents=True)
    (template / "wrangler.jsonc").write_text('{\n  // a comment, as the templates have\n  "name": "<WORKER_NAME>",\n'
                                             '  "main": "src/index.js",\n  "compatibility_date": "<COMPATIBILITY_DATE>",\n}\n',
                                             encoding="utf-8")
    (template / "src" / "index.js").write_text("export default { fetch() { return new Response('hi'); } };\n",
                                               encoding="utf-8")
    (template / "__dot__gitignore").write_text("node_modules\n", encoding="utf-8")
    entry = corpus.Entry("corpus-x", "templates/t/js", ("KV",), why="adds KV",
                         overlay={"kv_namespaces": [{"binding": "NOTES", "id": "1" * 32}]},
                         files={".dev.vars": 'API_KEY="k"\n'})
    manifest = corpus.Manifest("create-cloudflare", "1.0.0", "sha512-x", "s", "2026-11-01", (entry,))
    repo = corpus.make_repo(entry, manifest, package, tmp_path / "repos")
    config = json.loads((repo / "wrangler.jsonc").read_text(encoding="utf-8"))
    assert config == {"name": "corpus-x", "main": "src/index.js", "compatibility_date": "2026-11-01",
                      "kv_namespaces": [{"binding": "NOTES", "id": "1" * 32}]}
    assert (repo / ".gitignore").read_text(encoding="utf-8").startswith("node_modules\n")
    assert (repo / "node_modules" / ".bin" / "wrangler").resolve() == (corpus.REPO / "scripts" / "wrangler").resolve()
    assert (repo / "targets.toml").read_text(encoding="utf-8") == corpus.targets_toml()
    assert corpus.facts(repo) == corpus.Facts("API_KEY", "k", None)
    assert (repo / ".git").is_dir()


def test_the_table_shows_each_step_its_exit_code_and_seconds() -> None:
    outcomes = [corpus.Outcome("sandbox.up", True, 0, 16.2), corpus.Outcome("diagnose", False, 1, 5.0, "symptoms: x"),
                corpus.Outcome("secret-missing", None, detail=corpus.DOES_NOT_APPLY)]
    row = corpus.table({"corpus-x": outcomes}).splitlines()[2]
    cells = [c.strip() for c in row.strip("|").split("|")]
    heads = corpus.columns()
    assert cells[0] == "x"  # the prefix every corpus Worker has goes
    assert dict(zip(heads, cells[1:]))["sandbox.up"] == "ok 0 16s"
    assert dict(zip(heads, cells[1:]))["diagnose"] == "FAIL 1 5s"
    assert dict(zip(heads, cells[1:]))["secret-missing"] == "–"
    assert corpus.failures({"corpus-x": outcomes}) == ["corpus-x / diagnose: exit 1: symptoms: x"]


def test_a_failure_is_told_by_its_error_line_not_by_wranglers_closing_words() -> None:
    output = ("==> deploying\nerror: sandbox.up failed: wrangler deploy failed (1): [ERROR] A request failed.\n\n"
              "  No such module \"\" in the upload. [code: 10021]\n  If you think this is a bug, open an issue\n"
              "Logs were written to x.log\n")
    assert corpus._last_words(output) == ('error: sandbox.up failed: wrangler deploy failed (1): [ERROR] A request failed.'
                                          ' | No such module "" in the upload. [code: 10021] | If you think this is a bug,'
                                          ' open an issue')


def test_a_worker_whose_repository_could_not_be_made_fails_its_first_step_with_why() -> None:
    row = corpus.unmade(RuntimeError("npm install in /tmp/x failed: npm error ERESOLVE could not resolve"))
    assert corpus.failures({"corpus-x": row}) == [
        "corpus-x / sandbox.up: exit None: the repository could not be made: npm install in /tmp/x failed: "
        "npm error ERESOLVE could not resolve"]
    assert "| x | FAIL |" in corpus.table({"corpus-x": row})


def test_the_remediation_run_is_the_one_the_break_printed() -> None:
    printed = ("delete the secret API_KEY (corpus-x; answered by cfw-remedy remediate.secret-rotation --name API_KEY "
               "--create --value env:API_KEY)\n")
    assert corpus.answered_by(printed) == ["cfw-remedy", "remediate.secret-rotation", "--name", "API_KEY", "--create",
                                           "--value", "env:API_KEY"]
    assert corpus.answered_by("sandbox stopped\n") == []


def test_an_assets_only_worker_gets_bad_deploy_and_its_rollback_but_no_worker_hang(tmp_path: Path) -> None:
    (tmp_path / "wrangler.jsonc").write_text('{\n  "name": "x", // no main\n  "assets": {"directory": "./public"}\n}\n',
                                             encoding="utf-8")
    known = corpus.facts(tmp_path)
    assert known.assets_only
    applies = {s.name: s.applies(known) for s in corpus.STEPS}
    assert applies["bad-deploy"] and applies["rollback"] and not applies["worker-hang"] and not applies["rollback 2"]
    assert not corpus.facts(tmp_path).secret and corpus.Facts("K", "v", None).assets_only is False


def test_the_docs_results_are_written_between_their_markers_from_a_run(tmp_path: Path) -> None:
    doc = tmp_path / "corpus.md"
    page = corpus.CORPUS_DOC.read_text(encoding="utf-8")
    assert page.count(corpus.BEGIN) == 1 and page.count(corpus.END) == 1  # the page has its block
    doc.write_text(f"# Corpus\n\n{corpus.BEGIN}\nold table\n{corpus.END}\n\nprose after\n", encoding="utf-8")
    results = {"corpus-x": [corpus.Outcome("sandbox.up", True, 0, 16.2), corpus.Outcome("diagnose", False, 1, 5.0, "why")]}
    corpus.write_docs(corpus.results_block(results, command="python bench/corpus.py --docs", when="2026-12-05T23:40:00+00:00",
                                           seconds=1500, package="create-cloudflare@2.74.0", cpus=2), doc)
    text = doc.read_text(encoding="utf-8")
    assert "old table" not in text and text.endswith(f"{corpus.END}\n\nprose after\n")
    assert ("The last run: `python bench/corpus.py --docs`, 2026-12-05 23:40 UTC, create-cloudflare@2.74.0, "
            "25 minutes on 2 shared cores.") in text
    assert corpus.table(results) in text and "- corpus-x / diagnose: exit 1: why" in text
    doc.write_text("no block\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="no `<!-- corpus-results"):
        corpus.write_docs("x", doc)
