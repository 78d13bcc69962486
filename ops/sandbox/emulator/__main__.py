"""python -m ops.sandbox.emulator: serve the emulated control plane until stopped."""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

from ops.sandbox.constants import ACCOUNT_ID, TOKEN
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.state import State
from ops.sandbox.live import read_overrides, split_dir_name

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def load_seed(names: str | None) -> dict[str, Any] | None:
    """One seed, or several joined with commas (tables merged, later ones winning per key; lists joined)."""
    if not names:
        return None
    seed: dict[str, Any] = {}
    for name in names.split(","):
        path = Path(name) if name.endswith(".json") else SCENARIOS / f"{name}.json"
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            if isinstance(value, dict) and isinstance(seed.get(key), dict):
                seed[key] = {**seed[key], **value}
            elif isinstance(value, list) and isinstance(seed.get(key), list):
                seed[key] = [*seed[key], *value]
            else:
                seed[key] = value
    return seed


class _Bridge:
    """Hands the data plane what the control plane took (queue messages, KV writes), from a background thread.

    Retries while wrangler dev reloads; what still fails after a minute is logged, not kept.
    """

    def __init__(self, base_urls: list[str]) -> None:
        import queue

        self.base_urls = [url.rstrip("/") for url in base_urls]
        self._pending: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=self._run, name="bridge", daemon=True).start()

    def deliver(self, queue_name: str, messages: list[dict[str, Any]]) -> None:
        self._pending.put(("/queues/deliver", {"queue": queue_name, "messages": messages}))

    def kv_write(self, namespace_id: str, pairs: list[dict[str, Any]]) -> None:
        self._pending.put(("/kv/bulk", {"namespace_id": namespace_id, "pairs": pairs}))

    def _run(self) -> None:
        while True:
            path, payload = self._pending.get()
            for base_url in self.base_urls:  # each Worker takes what it binds and answers 404 to the rest
                self._post(base_url, path, payload)

    def _post(self, base_url: str, path: str, payload: dict[str, Any]) -> None:
        import httpx

        from ops.sandbox import loopback

        deadline = time.monotonic() + 60
        while True:
            try:
                response = loopback.post(base_url + path, json=payload, timeout=30)
                if response.status_code == 404:
                    return  # the Worker does not bind that queue or namespace: nothing to hand over
                response.raise_for_status()
                return
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline:
                    print(f"emulator: {path} not handed to the sandbox Worker: {exc}", flush=True)
                    return
                time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.sandbox.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--seed", default="default")
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--account", default=ACCOUNT_ID)
    parser.add_argument("--live-dir", type=Path)
    parser.add_argument("--bridge-url", action="append", default=[],
                        help="a sandbox Worker's bridge, which takes queue messages and KV writes (repeatable)")
    parser.add_argument("--proxy", action="append", default=[], metavar="SCRIPT=PORT=UPSTREAM_URL",
                        help="serve a recording proxy for SCRIPT on PORT in front of UPSTREAM_URL (repeatable)")
    args = parser.parse_args()
    hook = None
    if args.live_dir is not None:
        live_dir: Path = args.live_dir

        def hook(script: str, state: State) -> None:
            from ops.sandbox.emulator.live import live_version
            from ops.sandbox.live import materialize

            live = live_version(state, script)
            if live is not None:
                materialize(live, live_dir / script, port_overrides=read_overrides(live_dir))
            other = live_version(state, script, split=True)  # a split's second version: its own wrangler dev
            if other is not None:
                materialize(other, live_dir / split_dir_name(script), port_overrides=read_overrides(live_dir))

    bridge = _Bridge(args.bridge_url) if args.bridge_url else None
    handle = start_emulator(args.state, host=args.host, port=args.port, account_id=args.account, token=args.token,
                            seed=load_seed(args.seed), on_live_change=hook,
                            on_deliver=bridge.deliver if bridge else None, on_kv_write=bridge.kv_write if bridge else None)
    if hook is not None:  # a state restored from a snapshot (a reset): each live version written, as at its deploy
        for script in list(handle.emulator.state.data.get("scripts", {})):
            if not (args.live_dir / script).exists():
                hook(script, handle.emulator.state)
    for spec in args.proxy:
        script, port, upstream = spec.split("=", 2)
        proxy = handle.add_proxy(script, upstream, port=int(port), host=args.host,
                                 split_dir=args.live_dir / split_dir_name(script) if args.live_dir else None)
        print(f"recording proxy for {script} on {proxy.url} -> {upstream}", flush=True)
    print(f"emulator listening on {handle.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    handle.stop()


if __name__ == "__main__":
    main()
