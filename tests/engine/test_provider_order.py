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
