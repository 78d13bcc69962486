"""python -m ops.sandbox.emulator: serve the emulated control plane until stopped."""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.state import State

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def load_seed(name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    path = Path(name) if name.endswith(".json") else SCENARIOS / f"{name}.json"
    seed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return seed


def _deliver_to(url: str) -> Callable[[str, list[dict[str, Any]]], None]:
    """Hand messages to the sandbox Worker from a background thread, retrying while wrangler dev reloads."""
    import queue as queues

    pending: queues.Queue[tuple[str, list[dict[str, Any]]]] = queues.Queue()

    def post(name: str, messages: list[dict[str, Any]]) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(url, json={"queue": name, "messages": messages}, timeout=10).raise_for_status()
                return
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline:
                    print(f"emulator: {len(messages)} message(s) for {name} not delivered: {exc}", flush=True)
                    return
                time.sleep(0.5)

    def worker() -> None:
        while True:
            post(*pending.get())

    threading.Thread(target=worker, name="deliver", daemon=True).start()
    return lambda name, messages: pending.put((name, messages))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.sandbox.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--seed", default="default")
    parser.add_argument("--token", default="sandbox-local-token")
    parser.add_argument("--account", default="5a4db0c5000000000000000000000000")
    parser.add_argument("--live-dir", type=Path)
    parser.add_argument("--deliver-url", help="where messages for Worker-consumed queues go (the sandbox Worker's bridge)")
    args = parser.parse_args()
    hook = None
    if args.live_dir is not None:
        live_dir: Path = args.live_dir

        def hook(script: str, state: State) -> None:
            from ops.sandbox.emulator.live import live_version
            from ops.sandbox.live import materialize

            live = live_version(state, script)
            if live is not None:
                materialize(live, live_dir)

    handle = start_emulator(args.state, host=args.host, port=args.port, account_id=args.account, token=args.token,
                            seed=load_seed(args.seed), on_live_change=hook,
                            on_deliver=_deliver_to(args.deliver_url) if args.deliver_url else None)
    print(f"emulator listening on {handle.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    handle.stop()


if __name__ == "__main__":
    main()
