"""One variable picks the sandbox's ports; unset, the sandbox chooses free ones below the ephemeral range."""

from __future__ import annotations

import random
import re
import socket
import tempfile
import tomllib
from pathlib import Path

import pytest

from ops.errors import InputError, SandboxError
from ops.sandbox.constants import PORT_OFFSETS, PORT_SPAN, WORKERS
from ops.sandbox.manager import Sandbox
from ops.sandbox.ports import CHOSEN_FROM, CHOSEN_TO, Ports
from ops.targets import load_target

from testing.workspace import REPO

EPHEMERAL = range(32768, 61000)  # Linux's default ip_local_port_range


def test_the_base_variable_places_every_port_at_its_offset(tmp_path: Path) -> None:
    ports = Ports.for_home(tmp_path, {"OPS_SANDBOX_PORT_BASE": "21000"})
    assert [ports[name] for name in PORT_OFFSETS] == [21000 + offset for offset in PORT_OFFSETS.values()]
    assert len(set(PORT_OFFSETS.values())) == len(PORT_OFFSETS) and max(PORT_OFFSETS.values()) < PORT_SPAN
    assert not ports.chosen


@pytest.mark.parametrize("raw", ["abc", "80", "65530", "-1"])
def test_a_bad_base_names_the_variable_and_the_range(tmp_path: Path, raw: str) -> None:
    with pytest.raises(InputError, match=rf"OPS_SANDBOX_PORT_BASE='{re.escape(raw)}': write a port from 1024 to "
                                         rf"{65535 - PORT_SPAN} \(the sandbox takes it and the {PORT_SPAN - 1} after it\)"):
        Ports.for_home(tmp_path, {"OPS_SANDBOX_PORT_BASE": raw})


def test_unset_the_sandbox_chooses_free_ports_below_the_ephemeral_range_and_keeps_them(tmp_path: Path) -> None:
    chosen = Ports.for_home(tmp_path, {})
    assert chosen.chosen and CHOSEN_FROM <= chosen.base and chosen.base + PORT_SPAN <= CHOSEN_TO
    assert not any(chosen[name] in EPHEMERAL for name in PORT_OFFSETS) and chosen.taken() == []
    chosen.remember(tmp_path)
    assert Ports.for_home(tmp_path, {}) == chosen  # every later command finds the same sandbox
    assert Ports.for_home(tmp_path, {"OPS_SANDBOX_PORT_BASE": "22000"}).base == 22000  # the variable wins


def test_a_base_with_a_port_in_use_or_just_chosen_elsewhere_is_not_chosen(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # this test's own marks of just-chosen bases
    slots = list(range(CHOSEN_FROM, CHOSEN_TO - PORT_SPAN, PORT_SPAN))
    random.Random(7).shuffle(slots)
    with socket.socket() as held:
        held.bind(("127.0.0.1", slots[0] + PORT_OFFSETS["books_dev"]))
        held.listen()
        assert Ports(slots[0]).taken() == ["books_dev"]
        assert Ports.choose(random.Random(7)).base == slots[1]  # the first draw binds nothing
    assert Ports.choose(random.Random(7)).base == slots[0]  # free again
    assert Ports.choose(random.Random(7)).base == slots[2]  # the first two were just chosen by other sandboxes


def test_the_tracked_targets_file_names_no_port_and_no_sandbox_target() -> None:
    text = (REPO / "targets.toml").read_text(encoding="utf-8")
    assert not re.search(r"127\.0\.0\.1|localhost|:\d{4,5}\b", text)
    assert not [name for name in tomllib.loads(text)["targets"] if name.startswith("sandbox")]


def test_the_sandbox_writes_its_targets_on_its_own_ports(tmp_path: Path) -> None:
    sandbox = Sandbox(REPO, tmp_path / ".sandbox", Ports(23000))
    written = tomllib.loads(sandbox.targets_file().read_text(encoding="utf-8"))
    assert written["default"] == "sandbox" and sorted(written["targets"]) == sorted(w.target for w in WORKERS)
    for spec in WORKERS:
        target = written["targets"][spec.target]
        assert target["api_base_url"] == "http://127.0.0.1:23000/client/v4"
        assert target["worker_url"] == f"http://127.0.0.1:{23000 + PORT_OFFSETS[spec.key]}"  # its recording proxy
        assert target["wrangler_config"] == str(sandbox.config_of(spec)) and target["description"] == spec.description


def test_a_fresh_clone_is_told_that_sandbox_up_writes_the_sandbox_targets(tmp_path: Path) -> None:
    (tmp_path / "targets.toml").write_text((REPO / "targets.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match=r"no target named 'sandbox' \(known: production\); `inv sandbox.up` writes "
                                         r"the sandbox's targets into .*\.sandbox/targets.toml"):
        load_target(path=tmp_path / "targets.toml", environ={})


def test_a_taken_port_under_the_variable_is_named_with_its_part_before_anything_starts(tmp_path: Path) -> None:
    sandbox = Sandbox(REPO, tmp_path / ".sandbox", Ports(Ports.choose().base))
    with socket.socket() as held:
        held.bind(("127.0.0.1", sandbox.ports["plain"]))
        held.listen()
        with pytest.raises(SandboxError) as caught:
            sandbox.up()
    assert str(caught.value) == (f"sandbox.up failed: the ports: port {sandbox.ports['plain']} (the plain Worker's "
                                 "recording proxy, in the emulator) is taken by another process; set "
                                 "OPS_SANDBOX_PORT_BASE to another base (the sandbox takes 20 ports from it), or "
                                 "unset it to let the sandbox choose")
    assert not (tmp_path / ".sandbox" / "pids").exists()  # nothing was started
