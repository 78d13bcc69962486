"""HTTP to the sandbox's own parts (Workers, providers, the emulator's admin routes), all on loopback.

One client, made on first use: ``httpx.get`` makes a client per call, and each loads the CA bundle (20 ms of
CPU against 0.6 ms for the request), which made the sandbox's polls cost more than what they asked. No proxy
from the environment (loopback must not go through one), and no kept connections (a wrangler dev that
restarts closes them under us).
"""

from __future__ import annotations

import functools
from typing import Any

import httpx


@functools.cache
def client() -> httpx.Client:
    return httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0), timeout=10)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return client().get(url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return client().post(url, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    return client().put(url, **kwargs)
