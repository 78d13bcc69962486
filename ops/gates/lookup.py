"""Find the wrangler config as wrangler does: wrangler.json, then wrangler.jsonc, then wrangler.toml, searched upward."""

from __future__ import annotations

from pathlib import Path

from ops.errors import ConfigError

NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")


def find_config(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in NAMES:
            if (folder / name).is_file():
                return folder / name
    raise ConfigError(f"{here}: no wrangler.json, wrangler.jsonc or wrangler.toml here or above; pass --config PATH")
