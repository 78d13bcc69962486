"""An R2 bucket belongs to one jurisdiction: a binding to `eu/media` is not satisfied by a default `media`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ops.documents.config import load_config
from ops.documents.wrangler_config import TOP
from ops.gates.bindings import remote_findings

CONFIG = '''name = "media-api"
main = "src/index.js"

[[r2_buckets]]
binding = "MEDIA"
bucket_name = "media"
jurisdiction = "eu"

[[r2_buckets]]
binding = "LOGS"
bucket_name = "logs"
'''


class Buckets:
    """A lister answering as ``list_r2`` does: every jurisdiction's buckets, each tagged with its own."""

    def __init__(self, *buckets: tuple[str, str]) -> None:
        self.buckets = [{"name": name, "jurisdiction": where} for name, where in buckets]

    def r2_buckets(self) -> list[dict[str, Any]]:
        return self.buckets

    def kv_namespaces(self) -> list[dict[str, Any]]:
        return []

    d1_databases = queues = durable_objects = kv_namespaces


def findings(tmp_path: Path, lister: Buckets) -> list[str]:
    path = tmp_path / "wrangler.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return [f.message for f in remote_findings(load_config(path), [TOP], lister)]


def test_a_bucket_of_the_default_jurisdiction_does_not_satisfy_an_eu_binding(tmp_path: Path) -> None:
    assert findings(tmp_path, Buckets(("media", "default"), ("logs", "default"))) == [
        'R2 bucket media (jurisdiction eu) bound as "MEDIA" does not exist in the account; a bucket "media" exists in '
        "the default jurisdiction: set the binding's jurisdiction to match, or create the bucket where it is bound"]


def test_each_binding_finds_its_own_jurisdictions_bucket(tmp_path: Path) -> None:
    assert findings(tmp_path, Buckets(("media", "eu"), ("logs", "default"))) == []


def test_an_eu_bucket_does_not_satisfy_a_default_binding(tmp_path: Path) -> None:
    assert findings(tmp_path, Buckets(("media", "eu"), ("logs", "eu")))[0].startswith(
        'R2 bucket logs bound as "LOGS" does not exist in the account')
