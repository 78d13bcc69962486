"""The egress wall on the bytes about to be sent: a registered secret, in whatever encoding httpx gives it, goes
only to the target's own hosts and those it allows; a read-only client reaches nothing else at all."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from ops import http, redact
from ops.egress import Egress, EgressTransport, parse_allowed
from ops.errors import InputError

SECRET = "s3cr3t value/with?odd&chars=é+"
ASCII = "header-secret-0a1b2c"
OWN = Egress.of(("http://127.0.0.1:8787", "https://api.cloudflare.com/client/v4"), ["hooks.example.com", "127.0.0.1:9999"])


def client(read_only: bool, sent: list[httpx.Request]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    return http.client(read_only=read_only, transport=EgressTransport(httpx.MockTransport(answer), OWN,
                                                                      read_only=read_only))


@pytest.mark.parametrize("how", ["query", "path", "header", "json", "form"])
def test_a_secret_in_any_part_of_a_request_to_another_host_is_refused(how: str) -> None:
    redact.register(SECRET)
    redact.register(ASCII)
    sent: list[httpx.Request] = []
    with client(False, sent) as c:
        kwargs = {"query": {"params": {"k": SECRET}}, "path": {}, "header": {"headers": {"Authorization": f"Bearer {ASCII}"}},
                  "json": {"json": {"k": SECRET}}, "form": {"data": {"k": SECRET}}}[how]
        url = "http://127.0.0.1:7777/" + (quote(SECRET, safe="") if how == "path" else "p")  # as a template puts it
        method = "POST" if how in ("json", "form") else "GET"
        with pytest.raises(InputError, match='add "127.0.0.1:7777" to allowed_hosts'):
            c.request(method, url, **kwargs)  # type: ignore[arg-type]
        c.request(method, url.replace("7777", "8787"), **kwargs)  # type: ignore[arg-type]  # the Worker's own host
    assert [r.url.port for r in sent] == [8787]


@pytest.mark.parametrize("url, allowed", [("https://hooks.example.com/x", True), ("http://hooks.example.com/x", True),
                                          ("https://hooks.example.com:8443/x", False), ("http://127.0.0.1:9999/", True),
                                          ("https://api.cloudflare.com/client/v4/x", True), ("http://localhost:8787", False)])
def test_allowed_hosts_are_matched_by_host_and_port(url: str, allowed: bool) -> None:
    assert OWN.allows(url) is allowed


def test_a_read_only_client_reaches_only_the_targets_hosts_even_without_a_secret() -> None:
    sent: list[httpx.Request] = []
    with client(True, sent) as c:
        with pytest.raises(InputError, match="a dry-run or a diagnosis only reads from the target's own hosts"):
            c.get("http://127.0.0.1:7777/health")
        c.get("http://127.0.0.1:8787/health")
    assert len(sent) == 1


def test_an_allowed_host_entry_is_parsed_with_or_without_a_port() -> None:
    assert parse_allowed("Hooks.Example.com") == [("hooks.example.com", 443), ("hooks.example.com", 80)]
    assert parse_allowed("10.0.0.1:8080") == [("10.0.0.1", 8080)]
    assert parse_allowed("[::1]:8080") == [("::1", 8080)]
