"""The HTTP seam loads TLS settings only for https, and an https request is always verified."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from ops import http


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _contexts(client: httpx.Client) -> dict[str, ssl.SSLContext]:
    transport = client._transport  # the seam's own transport: which TLS settings each scheme got
    inner = getattr(transport, "_inner", transport)
    return {scheme: t._pool._ssl_context for scheme, t in inner._by_scheme.items()}


@pytest.mark.parametrize("read_only", [False, True])
def test_https_is_verified_and_plain_http_builds_no_verifying_context(read_only: bool) -> None:
    port = _closed_port()
    with http.client(read_only=read_only, timeout=2) as client:
        for scheme in ("http", "https"):
            with pytest.raises(httpx.ConnectError):
                client.get(f"{scheme}://127.0.0.1:{port}/")
        contexts = _contexts(client)
    assert contexts["https"].verify_mode == ssl.CERT_REQUIRED and contexts["https"].check_hostname is True
    assert set(contexts) == {"http", "https"}
