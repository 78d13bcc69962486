"""Why a sandbox Worker is unhealthy, and which of its bindings the sandbox's wrangler dev cannot give it.

End to end (the real wrangler dev answering a bad deploy; a Worker binding Workers AI):
tests/integration/test_worker_repo.py::test_a_durable_object_and_static_assets_worker_is_served_broken_and_rolled_back.
"""

from __future__ import annotations

from pathlib import Path

from ops.sandbox.contract import LiveVersion, Module
from ops.sandbox.live import config_for, materialize
from ops.sandbox.tasks import _worker_lines
from ops.sandbox.unhealthy import explain, first_exception, not_given

STACK = ("TypeError: Cannot read properties of undefined (reading 'idFromName')\n"
         "    at Object.fetch (file:///w/index.js:3:20)\n")
NOISE = ("[wrangler:warn] Unable to fetch the `Request.cf` object! Falling back to a default placeholder...\n"
         "Error: getaddrinfo ENOTFOUND workers.cloudflare.com\n    at GetAddrInfoReqWrap.onlookupall\n")


def version(*bindings: dict[str, str]) -> LiveVersion:
    return LiveVersion(script="w", version_id="v1", deployment_id="d1", main_module="index.js",
                       modules=(Module("index.js", "application/javascript+module", b"export default {}"),),
                       bindings=tuple(bindings), secrets={})


def test_an_unhealthy_worker_is_explained_by_its_answer_the_exception_and_the_binding_it_lacks(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text(NOISE, encoding="utf-8")
    lines = explain({"healthy": False, "status": 500, "said": STACK}, log, tmp_path, "http://127.0.0.1:1/")
    assert lines[:3] == [
        "it answered 500 on http://127.0.0.1:1/",
        "first exception: TypeError: Cannot read properties of undefined (reading 'idFromName')",
        "it calls .idFromName() on a binding that is undefined: a Durable Object namespace that its config does not "
        "bind for this env, or that the sandbox does not give it"]
    assert lines[-1] == f"log: {log}"
    assert explain({"healthy": True, "status": 200}, log, tmp_path, "http://127.0.0.1:1/") == []


def test_without_an_answer_the_first_exception_comes_from_the_log_past_wranglers_noise(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text(NOISE + "✘ [ERROR] Uncaught Error: No such module \"lib.js\"\n", encoding="utf-8")
    lines = explain({"healthy": False, "status": None}, log, tmp_path, "http://127.0.0.1:1/")
    assert lines[:2] == ["no answer from its wrangler dev on http://127.0.0.1:1/",
                         "first exception: ✘ [ERROR] Uncaught Error: No such module \"lib.js\""]
    assert first_exception(NOISE) is None


def test_bindings_wrangler_dev_cannot_simulate_are_named_and_left_out_of_its_config(tmp_path: Path) -> None:
    live = version({"type": "ai", "name": "AI"}, {"type": "vectorize", "name": "INDEX", "index_name": "i"},
                   {"type": "service", "name": "SELF", "service": "w"},
                   {"type": "workflow", "name": "FLOW", "workflow_name": "w-flow", "class_name": "Flow"},
                   {"type": "pipelines", "name": "PIPE", "pipeline": "p"},
                   {"type": "service", "name": "AUTH", "service": "auth-worker"})
    materialize(live, tmp_path)
    assert not_given(tmp_path) == [
        "AI (ai): wrangler dev has no local simulation of Workers AI, only Cloudflare's own",
        "INDEX (vectorize): wrangler dev has no local simulation of Vectorize, only Cloudflare's own",
        "PIPE (pipelines): the sandbox does not give wrangler dev this kind of binding yet",
        "AUTH (service of auth-worker): answers only while auth-worker runs in a wrangler dev on this machine"]
    config = config_for(live, {})
    assert config["services"] == [{"binding": "SELF", "service": "w"}, {"binding": "AUTH", "service": "auth-worker"}]
    assert config["workflows"] == [{"binding": "FLOW", "name": "w-flow", "class_name": "Flow"}]
    assert not {"ai", "vectorize"} & set(config)
    healthy = {"url": "u", "script": "w", "target": "t", "healthy": True, "not_rehearsable": not_given(tmp_path)}
    assert _worker_lines(healthy)[1].strip() == "not rehearsable here: " + not_given(tmp_path)[0]
