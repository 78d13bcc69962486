"""python -m ops.sandbox.emulator: serve the emulated control plane until stopped."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.state import State

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def load_seed(name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    path = Path(name) if name.endswith(".json") else SCENARIOS / f"{name}.json"
    seed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return seed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.sandbox.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--seed", default="default")
    parser.add_argument("--token", default="sandbox-local-token")
    parser.add_argument("--account", default="5a4db0c5000000000000000000000000")
    parser.add_argument("--live-dir", type=Path)
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
                            seed=load_seed(args.seed), on_live_change=hook)
    print(f"emulator listening on {handle.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    handle.stop()


if __name__ == "__main__":
    main()
