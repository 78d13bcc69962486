"""`inv logs` names the failing endpoint: counts by path and HTTP class, the most 5xx first."""

from __future__ import annotations

from typing import Any

from ops.cloudflare.tail_summary import by_path, summarize


def event(method: str, path: str, status: int | None, outcome: str = "ok") -> dict[str, Any]:
    response = {"status": status} if status is not None else None
    return {"outcome": outcome, "event": {"request": {"method": method, "url": f"https://w.example{path}"},
                                          **({"response": response} if response else {})}}


def test_the_endpoint_with_the_most_5xx_comes_first_with_its_rate() -> None:
    events = [event("GET", "/manuscripts", 401) for _ in range(30)]
    events += [event("PUT", "/manuscripts/1/upload", 201) for _ in range(11)]
    events += [event("PUT", "/manuscripts/1/upload", None, "exception")]
    events += [event("GET", "/auth/verify", 500)]
    ranked = by_path(events)
    assert [(p["method"], p["path"]) for p in ranked] == [("PUT", "/manuscripts/1/upload"), ("GET", "/auth/verify"),
                                                          ("GET", "/manuscripts")]
    assert ranked[0]["by_class"] == {"2xx": 11, "5xx": 1} and ranked[0]["rate_5xx"] == round(1 / 12, 4)
    assert ranked[2]["by_class"] == {"4xx": 30} and ranked[2]["rate_5xx"] == 0
    assert summarize(events, seconds=5)["by_path"] == ranked
