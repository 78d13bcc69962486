"""The provider ranking: healthy first, then latency bands, then the current order."""

from ops.actions.provider_order import _ranked


def stats(**latency: float) -> dict:
    return {name: {"healthy": ms >= 0, "latency_ms": abs(ms)} for name, ms in latency.items()}


def test_noise_within_a_band_keeps_the_current_order() -> None:
    current = ["openlibrary", "isbndb", "google_books"]
    assert _ranked(stats(google_books=2500, openlibrary=3, isbndb=1), current, 50) == ["openlibrary", "isbndb", "google_books"]


def test_a_slower_band_moves_down() -> None:
    current = ["google_books", "openlibrary", "isbndb"]
    assert _ranked(stats(google_books=120, openlibrary=60, isbndb=3), current, 50) == ["isbndb", "openlibrary", "google_books"]


def test_unhealthy_goes_last_even_when_fast() -> None:
    current = ["google_books", "openlibrary", "isbndb"]
    assert _ranked(stats(google_books=-1, openlibrary=400, isbndb=900), current, 50) == ["openlibrary", "isbndb", "google_books"]


def _probe(status: dict) -> dict:
    """The provider probe of provider-reorder (`inv diagnose`), judged on a Worker's provider status."""
    import httpx

    from ops.actions.base import Context
    from ops.actions.provider_order import ProviderOrderAction, ProviderOrderArgs
    from ops.judge.verdict import judge
    from ops.targets import Target

    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=status)))
    target = Target("test", "http://127.0.0.1:9/client/v4", "a" * 32, "api-worker", "http://worker.test", token="t" * 40)
    seen = ProviderOrderAction().run(ProviderOrderArgs(url="http://worker.test", samples=1),
                                     Context(target, dry_run=True, _http=client))
    expect = {"leader.latency_ms": {"<": 1000}, "leader.healthy": True}
    return {"leader": seen["leader"], "verdict": judge(dict(seen), expect, strict_failing=False).verdict.value}


# The books Worker lists its providers in a fixed order; `order` is the one its live version uses.
SLOW_GOOGLE = [{"name": "google_books", "healthy": True, "latency_ms": 2500},
               {"name": "openlibrary", "healthy": True, "latency_ms": 4}, {"name": "isbndb", "healthy": True, "latency_ms": 3}]


def test_the_probe_judges_the_provider_the_live_order_puts_first_not_the_first_listed() -> None:
    reordered = _probe({"order": ["openlibrary", "isbndb", "google_books"], "providers": SLOW_GOOGLE})
    assert reordered == {"leader": {"name": "openlibrary", "healthy": True, "latency_ms": 4}, "verdict": "passed"}
    before = _probe({"order": ["google_books", "openlibrary", "isbndb"], "providers": SLOW_GOOGLE})
    assert before["leader"]["name"] == "google_books" and before["verdict"] == "failed"
