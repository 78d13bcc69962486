"""Printed commands use the name the user ran: `cfw-remedy …` from the console script, else `inv …`."""

from __future__ import annotations

import pytest

from ops.invoked import command


@pytest.mark.parametrize(("argv0", "said"), [("/venv/bin/cfw-remedy", "cfw-remedy journal.show latest"),
                                             ("/venv/bin/inv", "inv journal.show latest"),
                                             ("/usr/lib/python3/site-packages/invoke/__main__.py", "inv journal.show latest")])
def test_a_printed_command_uses_the_program_the_user_ran(monkeypatch: pytest.MonkeyPatch, argv0: str, said: str) -> None:
    monkeypatch.setattr("sys.argv", [argv0, "remediate.rollback"])
    assert command("journal.show latest") == said
