"""Every error code the emulator can answer is either sourced or listed as invented (issue 19, point 8).

The codes are read from the emulator's own source: an ``ApiFailure(status, code, …)``, a
``(status, code, "message")`` constant, or an envelope's ``[(code, "message")]``.
"""

from __future__ import annotations

import re
from pathlib import Path

import ops.sandbox.emulator.tail  # noqa: F401 (adds the tail session's codes)
from ops.sandbox.emulator import codes, routing

EMULATOR = Path(routing.__file__).parent
ANSWERED = re.compile(r"\(\s*[1-5]\d\d,\s*(\d{3,5}),|\[\((\d{3,5}), f?\"")


def answered_codes() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for module in sorted(EMULATOR.glob("*.py")):
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1):
            for match in ANSWERED.finditer(line):
                found.setdefault(int(match.group(1) or match.group(2)), []).append(f"{module.name}:{number}")
    return found


def test_every_code_the_emulator_answers_is_sourced_or_listed_as_invented() -> None:
    answered = answered_codes()
    assert {10007, 10220, 10227, 11010, 971, 7000} <= set(answered)  # the scan sees every way a code is written
    unknown = {code: where for code, where in answered.items()
               if code not in codes.SOURCED_CODES and code not in codes.INVENTIONS}
    assert unknown == {}


def test_every_listed_code_is_answered_and_none_is_both() -> None:
    answered = set(answered_codes())
    assert set(codes.SOURCED_CODES) & set(codes.INVENTIONS) == set()
    assert sorted(set(codes.SOURCED_CODES) - answered) == []
    assert sorted(set(codes.INVENTIONS) - answered) == []


def test_the_codes_the_issue_found_unlisted_are_listed_and_wranglers_own_are_sourced() -> None:
    assert {10001, 10019, 10026, 10056, 11000, 11003, 11004, 11005, 11008, 11009} <= set(codes.INVENTIONS)
    assert {7404, 7502} <= set(codes.SOURCED_CODES) and not {7404, 7502} & set(codes.INVENTIONS)
    assert 10023 not in answered_codes()  # wrangler reads 10023 as a deployment not fully rolled out, not a bad body


def test_invented_behaviours_are_listed_with_a_reason() -> None:
    for name in ("versions list order", "consumer names", "triggered_by rollback", "GraphQL quantiles",
                 "split deployments", "v8 queue messages"):
        assert len(codes.INVENTED_BEHAVIOURS[name]) > 40
