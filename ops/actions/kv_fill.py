"""The cache warm's other path: write values straight to KV through the API's bulk endpoint.

For when the Worker cannot warm (its warm endpoint is down or refuses) but the
values are at hand, e.g. exported from the origin. ``--values-file`` holds one
JSON object a line, ``{"key": ..., "value": ..., "expiration_ttl": ...}`` (the
fields of ``wrangler kv bulk put``'s pairs), so it streams: it is validated in
one pass, then read again while sending. Pairs go in ``kv_batches`` (1,000 pairs and
under 100 MB a request, the API's request limit), a bounded
number of requests in flight; a bulk write is a PUT, so the client retries it.
The KV key is ``kv_key`` with ``{key}`` filled in (``book:{key}`` for the
example Worker); the namespace is the id bound to ``binding`` in the wrangler
config, which is the namespace the Worker reads.
"""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Iterator

from ops.actions.lines import numbered_lines
from ops.cloudflare._api import KV_BULK_BATCH as KV_BULK_BATCH
from ops.cloudflare._api import kv_batches
from ops.errors import InputError

MAX_LINE = 25 * 1024 * 1024  # a KV value may be up to 25 MiB


def count_pairs(values_file: str) -> int:
    count = sum(1 for _ in iter_pairs(values_file, "{key}"))
    if count == 0:
        raise InputError(f"{values_file}: no pairs; one JSON object a line: {{\"key\": ..., \"value\": ...}}")
    return count


def iter_pairs(values_file: str, kv_key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(the key as the Worker knows it, the pair to write), one per non-blank line."""
    path = Path(values_file)
    for number, raw in numbered_lines(path, "values file", max_line=MAX_LINE + 1024):  # a value, and its JSON
        if raw.strip():
            yield _pair(raw, f"{path}:{number}", kv_key)


def _pair(raw: bytes, where: str, kv_key: str) -> tuple[str, dict[str, Any]]:
    try:
        item = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}:{exc.start + 1}: invalid UTF-8; save the values file as UTF-8 JSON lines") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.colno}: not JSON ({exc.msg}); one object a line: {{\"key\": ..., \"value\": ...}}") from None
    if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"] or "value" not in item:
        raise InputError(f"{where}:1: each line needs a string \"key\" and a \"value\"")
    ttl = item.get("expiration_ttl")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 60):
        raise InputError(f"{where}:1: expiration_ttl must be a whole number of seconds, at least 60 (KV's minimum)")
    value = item["value"] if isinstance(item["value"], str) else json.dumps(item["value"])
    pair: dict[str, Any] = {"key": kv_key.format(key=item["key"]), "value": value}
    if ttl is not None:
        pair["expiration_ttl"] = ttl
    return item["key"], pair


def namespace_of(config_path: str, binding: str, env: str | None) -> str:
    """The KV namespace id bound to ``binding`` in the wrangler config, for ``env`` as wrangler resolves it."""
    from ops.documents.wrangler_config import effective, load_config

    return effective(load_config(Path(config_path)), env).kv_namespace(binding)


def fill(client: Any, namespace_id: str, pairs: Iterator[tuple[str, dict[str, Any]]], *, concurrency: int,
         on_batch: Any) -> None:
    """Write every pair, ``concurrency`` requests at a time; ``on_batch(keys, unsuccessful)`` after each."""
    from ops.cloudflare import kv_bulk_write

    def send(batch: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[str]]:
        by_kv_key = {pair["key"]: key for key, pair in batch}
        failed = kv_bulk_write(client, namespace_id, [pair for _, pair in batch])
        return list(by_kv_key.values()), [by_kv_key.get(k, k) for k in failed]

    in_flight: set[Future[tuple[list[str], list[str]]]] = set()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="kv-bulk") as pool:
        for batch in kv_batches(pairs, lambda item: item[1]):
            if len(in_flight) >= concurrency:
                in_flight = _settle(in_flight, on_batch)
            in_flight.add(pool.submit(send, batch))
        while in_flight:
            in_flight = _settle(in_flight, on_batch)


def _settle(in_flight: set[Future[tuple[list[str], list[str]]]], on_batch: Any) -> set[Future[tuple[list[str], list[str]]]]:
    done, rest = wait(in_flight, return_when=FIRST_COMPLETED)
    for future in done:
        on_batch(*future.result())
    return set(rest)

