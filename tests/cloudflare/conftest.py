"""The seeded emulator and a client of it, for the client-against-emulator tests (a module may define its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from ops.cloudflare import CloudflareClient
from ops.sandbox.emulator import EmulatorHandle

from tests.cloudflare.uploads import client_of, emulator_in


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    yield from emulator_in(tmp_path, seeded=True)


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[CloudflareClient]:
    yield from client_of(emulator)
