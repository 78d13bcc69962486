"""Build the ``LiveVersion`` of a script from the emulator's state (what the data plane should run)."""

from __future__ import annotations

from ops.sandbox.contract import LiveVersion, Module, QueueConsumer
from ops.sandbox.emulator.scripts import _current_version, split_version_id
from ops.sandbox.emulator.assets import asset_files
from ops.sandbox.emulator.state import State


def live_version(state: State, script_name: str, *, split: bool = False) -> LiveVersion | None:
    """The live version (the most weighted of the latest deployment); ``split``: its other version, if it has one."""
    with state.lock:
        script = state.data["scripts"].get(script_name)
        if not script or not script["deployments"]:
            return None
        if split:
            other = split_version_id(script)
            if other is None:
                return None
            version = next(v for v in script["versions"] if v["id"] == other)
        else:
            version = _current_version(script)
        consumers = tuple(
            QueueConsumer(queue["queue_name"], dict(c.get("settings") or {}), c.get("dead_letter_queue"))
            for queue in state.data["queues"].values() for c in queue["consumers"] if c.get("script") == script_name)
        runtime = version["resources"]["script_runtime"]
        return LiveVersion(
            script=script_name, version_id=version["id"], deployment_id=script["deployments"][0]["id"],
            main_module=version["_main_module"],
            modules=tuple(Module(m["name"], m["content_type"], state.module_bytes(m["digest"])) for m in version["_modules"]),
            bindings=tuple(b for b in version["resources"]["bindings"] if b.get("type") != "secret_text"),
            secrets=dict(version["_secrets"]), compatibility_date=runtime.get("compatibility_date"),
            compatibility_flags=tuple(runtime.get("compatibility_flags") or ()), queue_consumers=consumers,
            tag=str((version.get("annotations") or {}).get("workers/tag") or ""),
            created_on=str((version.get("metadata") or {}).get("created_on") or ""),
            migrations=tuple(version.get("_migrations") or ()),
            assets=asset_files(state, version["_assets"]) if version.get("_assets") else None,
            assets_config=dict((version.get("_assets") or {}).get("config") or {}))
