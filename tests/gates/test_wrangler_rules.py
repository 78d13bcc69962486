"""Layer 2, wrangler's semantic rules, one small config each: the code, the line, and what wrangler says."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.gates.bindings import check
from ops.documents.config import load_config
from ops.gates.schema import choose_schema

HEAD = 'name = "app"\nmain = "i.js"\n'


@pytest.mark.parametrize("body, code, line", [
    ('compatibility_date = "2024–01–01"\n', "invalid-compatibility-date", 3),          # en-dashes
    ('compatibility_date = "01/02/2024"\n', "invalid-compatibility-date", 3),
    ('node_compat = true\n', "removed-field", 3),
    ('account_id = ""\n', "empty-string-ignored", 3),
    ('[[r2_buckets]]\nbinding = "B"\nbucket_name = "My_Bucket"\n', "invalid-r2-bucket-name", 5),
    ('[[queues.consumers]]\nqueue = "q"\ntype = "push"\n', "queue-consumer-type", 5),
    ('[[migrations]]\ntag = "v1"\nrenamed_classes = [{ from = "A" }]\n', "invalid-migration", 5),
    ('[[durable_objects.bindings]]\nname = "R"\nclass_name = "Room"\n', "durable-object-without-migration", 3),
    ('[site]\nbucket = "./public"\nentry-point = "workers-site"\n', "deprecated-field", 5),
    ('[[containers]]\nclass_name = "C"\nimage = "docker.io/x:1"\ninstance_type = "standard"\n', "deprecated-instance-type", 6),
    ('[[containers]]\nclass_name = "C"\nimage = "./missing/Dockerfile"\n', "container-image-invalid", 5),
    ('[[services]]\nbinding = "API"\nservice = "api"\n[[kv_namespaces]]\nbinding = "API"\n', "duplicate-binding-name", 7),
    ('[vars]\nDB = "x"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "d"\n', "duplicate-binding-name", 6),
    ('[unsafe]\nbindings = []\n', "experimental-field", 3),
])
def test_each_rule_fires_where_wrangler_would(tmp_path: Path, body: str, code: str, line: int) -> None:
    path = tmp_path / "wrangler.toml"
    path.write_text(HEAD + body, encoding="utf-8")
    config = load_config(path)
    found = [(f.code, f.line) for f in check(config, schema=choose_schema(path, "4.86.0")).findings]
    assert (code, line) in found, found


def test_site_without_main_defaults_to_workers_site(tmp_path: Path) -> None:
    path = tmp_path / "wrangler.toml"
    path.write_text('name = "app"\n[site]\nbucket = "./public"\n')
    assert [f.code for f in check(load_config(path)).findings] == ["site-entry-point-default"]


def test_secrets_are_experimental_only_before_4_164(tmp_path: Path) -> None:
    path = tmp_path / "wrangler.jsonc"
    path.write_text('{"name": "app", "secrets": {"required": ["TOKEN"]}}')
    config = load_config(path)
    old = check(config, schema=choose_schema(path, "4.86.0")).findings
    new = check(config, schema=choose_schema(path, "4.164.0")).findings
    assert [f.code for f in old] == ["experimental-field"] and new == []


def test_a_var_missing_from_an_env_is_named_and_other_kinds_are_not_compared_by_name(tmp_path: Path) -> None:
    path = tmp_path / "wrangler.toml"
    path.write_text(HEAD + '[vars]\nA = "1"\nB = "2"\n[[containers]]\nclass_name = "C"\nimage = "docker.io/x:1"\n'
                    '[env.prod.vars]\nA = "1"\n[[env.prod.containers]]\nclass_name = "D"\nimage = "docker.io/x:1"\n')
    found = [(f.code, f.detail.get("binding")) for f in check(load_config(path), env="prod").findings if f.env == "prod"]
    assert found == [("binding-not-inherited", "B")]
