"""Static assets and Durable Object migrations through the emulator, as `wrangler deploy` sends them.

The assets flow (ops/sandbox/emulator/assets.py): an upload session answers a JWT and the buckets of
hashes the account lacks; the upload, authorised by that JWT, takes base64 parts and answers the
completion JWT; the script upload redeems it. The version keeps the files, which the sandbox's
`wrangler dev` then serves (ops.sandbox.live.config_for). The real wrangler drives the same routes in
tests/integration/test_worker_repo.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.sandbox.emulator.live import live_version
from ops.sandbox.live import config_for
from tests.cloudflare import reference_schemas as ref
from tests.cloudflare.test_reference_shapes import valid
from tests.cloudflare.uploads import ACCOUNT, TOKEN

CODE = "export default { fetch() { return new Response('ok') } }\n"
FILES = {"/index.html": b"<h1>hi</h1>", "/img/dot.png": b"\x89PNG\x00"}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN)
    yield handle
    handle.stop()


def api(handle: EmulatorHandle, method: str, path: str, *, token: str = TOKEN, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{handle.api_base_url}/accounts/{ACCOUNT}{path}",
                         headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, timeout=5, **kw)


def manifest() -> dict[str, dict[str, Any]]:
    return {path: {"hash": f"{i:032x}", "size": len(data)} for i, (path, data) in enumerate(FILES.items())}


def session(handle: EmulatorHandle, script: str = "site") -> dict[str, Any]:
    body = {"manifest": manifest()}
    valid(ref.ASSETS_SESSION_BODY, body)
    answer = api(handle, "POST", f"/workers/scripts/{script}/assets-upload-session", json=body)
    assert answer.status_code == 200, answer.text
    valid(ref.ASSETS_SESSION, answer.json()["result"])
    result: dict[str, Any] = answer.json()["result"]
    return result


def upload_files(handle: EmulatorHandle, jwt: str, hashes: list[str]) -> httpx.Response:
    by_hash = {entry["hash"]: FILES[path] for path, entry in manifest().items()}
    files = {h: (h, base64.b64encode(by_hash[h]), "image/png" if by_hash[h].startswith(b"\x89") else "text/html")
             for h in hashes}
    return api(handle, "POST", "/workers/assets/upload?base64=true", token=jwt, files=files)


def deploy(handle: EmulatorHandle, metadata: dict[str, Any], script: str = "site") -> httpx.Response:
    meta = {"main_module": "index.js", "compatibility_date": "2026-04-01", "bindings": [], **metadata}
    return api(handle, "PUT", f"/workers/scripts/{script}", files={
        "metadata": (None, json.dumps(meta), "application/json"),
        "index.js": ("index.js", CODE.encode(), "application/javascript+module")})


def test_an_assets_upload_session_then_the_upload_then_the_deploy_serve_the_files(emulator: EmulatorHandle) -> None:
    opened = session(emulator)
    assert sorted(h for bucket in opened["buckets"] for h in bucket) == sorted(e["hash"] for e in manifest().values())
    assert json.loads(base64.urlsafe_b64decode(opened["jwt"].split(".")[1] + "=="))["exp"] > 0  # wrangler reads exp

    assert upload_files(emulator, opened["jwt"], [], ).status_code == 400  # not multipart: no parts at all
    first, *rest = [h for bucket in opened["buckets"] for h in bucket]
    partial = upload_files(emulator, opened["jwt"], [first])
    assert partial.status_code == 200 and "jwt" not in partial.json()["result"]
    done = upload_files(emulator, opened["jwt"], rest)
    assert done.status_code == 201, done.text
    valid(ref.ASSETS_UPLOAD, done.json()["result"])

    deployed = deploy(emulator, {"bindings": [{"type": "assets", "name": "ASSETS"}],
                                 "assets": {"jwt": done.json()["result"]["jwt"],
                                            "config": {"not_found_handling": "404-page", "_headers": "/*\n  X-A: b\n"}}})
    assert deployed.json()["success"], deployed.text
    live = live_version(emulator.emulator.state, "site")
    assert live is not None and live.assets == {"index.html": b"<h1>hi</h1>", "img/dot.png": b"\x89PNG\x00"}
    config = config_for(live, {})
    assert config["assets"] == {"directory": f"assets/{live.version_id}", "binding": "ASSETS",
                                "not_found_handling": "404-page"}

    again = session(emulator)  # every file held: no buckets, and the JWT is already the completion token
    assert again["buckets"] == []
    assert deploy(emulator, {"assets": {"jwt": again["jwt"]}}).json()["success"]


def test_the_upload_takes_the_sessions_jwt_and_no_other(emulator: EmulatorHandle) -> None:
    opened = session(emulator)
    hashes = [h for bucket in opened["buckets"] for h in bucket]
    assert upload_files(emulator, TOKEN, hashes).status_code == 401  # the API token is not the upload JWT
    assert upload_files(emulator, opened["jwt"][:-3] + "xyz", hashes).status_code == 201  # the signature is not read
    refused = deploy(emulator, {"assets": {"jwt": opened["jwt"]}})  # an upload JWT is no completion token
    assert refused.status_code == 400 and "completion token is not valid" in refused.text
    other = session(emulator, "other")
    assert deploy(emulator, {"assets": {"jwt": other["jwt"]}}).status_code == 400  # another Worker's token


def test_a_secret_change_keeps_the_versions_assets_and_migrations(emulator: EmulatorHandle) -> None:
    opened = session(emulator)
    hashes = [h for bucket in opened["buckets"] for h in bucket]
    completion = upload_files(emulator, opened["jwt"], hashes).json()["result"]["jwt"]
    objects = [{"type": "durable_object_namespace", "name": "COUNTER", "class_name": "Counter"}]
    first = deploy(emulator, {"bindings": objects, "assets": {"jwt": completion},
                              "migrations": {"new_tag": "v1", "steps": [{"new_sqlite_classes": ["Counter"]}]}})
    assert first.json()["success"], first.text
    second = deploy(emulator, {"bindings": objects, "keep_assets": True,
                               "migrations": {"old_tag": "v1", "new_tag": "v2", "renamed_classes": [
                                   {"from": "Counter", "to": "Tally"}]}})
    assert second.json()["success"], second.text
    put = api(emulator, "PUT", "/workers/scripts/site/secrets", json={"name": "K", "text": "v", "type": "secret_text"})
    assert put.json()["success"], put.text

    live = live_version(emulator.emulator.state, "site")
    assert live is not None and live.secrets == {"K": "v"} and live.assets is not None
    config = config_for(live, {})
    assert config["durable_objects"] == {"bindings": [{"name": "COUNTER", "class_name": "Counter"}]}
    assert config["migrations"] == [{"tag": "v1", "new_sqlite_classes": ["Counter"]},
                                    {"tag": "v2", "renamed_classes": [{"from": "Counter", "to": "Tally"}]}]


def test_a_workflow_is_unknown_until_wrangler_puts_it(emulator: EmulatorHandle) -> None:
    missing = api(emulator, "GET", "/workflows/tally")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == 10200  # "none": wrangler goes on
    put = api(emulator, "PUT", "/workflows/tally", json={"script_name": "counter", "class_name": "Tally"})
    assert put.json()["success"] and put.json()["result"]["script_name"] == "counter"
    found = api(emulator, "GET", "/workflows/tally").json()["result"]
    assert {k: found[k] for k in ("name", "script_name", "class_name")} == {
        "name": "tally", "script_name": "counter", "class_name": "Tally"}


def test_an_assets_only_upload_has_no_module_and_its_worker_is_served_from_its_assets(
        emulator: EmulatorHandle, tmp_path: Path) -> None:
    from ops.sandbox.live import ASSETS_ONLY, ASSETS_ONLY_BINDING, ENTRY, materialize

    opened = session(emulator, "pages")
    completion = upload_files(emulator, opened["jwt"], [h for bucket in opened["buckets"] for h in bucket]).json()
    # What wrangler sends for a config with assets and no main: the metadata alone, no module part.
    metadata = {"assets": {"jwt": completion["result"]["jwt"],
                           "config": {"html_handling": "auto-trailing-slash", "not_found_handling": "404-page",
                                      "run_worker_first": True}},
                "compatibility_date": "2026-04-01", "compatibility_flags": []}
    deployed = api(emulator, "PUT", "/workers/scripts/pages", files={"metadata": (None, json.dumps(metadata),
                                                                                 "application/json")})
    assert deployed.json()["success"], deployed.text
    assert "No such module" in deploy(emulator, {"main_module": "gone.js"}).text  # a Worker with code still needs it

    live = live_version(emulator.emulator.state, "pages")
    assert live is not None and live.main_module == "" and live.modules == () and live.assets is not None
    config = config_for(live, {})
    assert config["assets"] == {"directory": f"assets/{live.version_id}", "binding": ASSETS_ONLY_BINDING,
                                "html_handling": "auto-trailing-slash", "not_found_handling": "404-page"}
    materialize(live, tmp_path / "live")
    code = tmp_path / "live" / "versions" / live.version_id
    assert f"env.{ASSETS_ONLY_BINDING}.fetch(request)" in (code / ASSETS_ONLY).read_text(encoding="utf-8")
    assert f'import * as worker from "./{ASSETS_ONLY}"' in (code / ENTRY).read_text(encoding="utf-8")
    assert (tmp_path / "live" / "assets" / live.version_id / "index.html").read_bytes() == FILES["/index.html"]
