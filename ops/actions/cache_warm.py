"""`cache_warm`: POST keys to the Worker's warm endpoint in batches, concurrently, with retries.

Keys are streamed (a key file is validated in one pass, then read again while
sending), and at most ``concurrency`` batches are in flight, so memory stays
flat however many keys there are. A batch that fails is retried with backoff;
keys still failing at the end are counted and reported, never dropped silently.
With ``kv_bulk`` the values are written straight to KV through the API instead
(``ops.actions.kv_fill``); the outputs, and so the verification, are the same.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import quote

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.actions.lines import numbered_lines
from ops.batching import batched
from ops.documents.shape import INTEGER, NUMBER, STRING, array, nullable, optional, record
from ops.errors import InputError, RemediationFailed

if TYPE_CHECKING:
    import httpx

MAX_KEY_LEN = 512
MAX_KEY_LINE = 4 * MAX_KEY_LEN + 1024  # a key of 512 characters in UTF-8 (up to 4 bytes each), and blanks around it
MAX_KEY_FILE = 1024 ** 3  # a gigabyte of keys: tens of millions
FATAL = {401: "the Worker refused the warm secret (401): check CACHE_WARM_SECRET",
         403: "the Worker refused the warm request (403)",
         404: "the Worker has no warm endpoint there (404): check the URL"}


class CacheWarmArgs(Args):
    url: str = Field(description="The Worker's base URL.")
    secret: str | None = Field(None, min_length=1, description="Sent as the X-Cache-Warm-Secret header: a secret "
                               "param (not needed with kv_bulk).", json_schema_extra={"secret": True})
    keys: list[str] | str = Field(default_factory=list, description="Keys, as a list or comma-separated.")
    keys_file: str | None = Field(None, description="A file with one key per line (# comments and blanks skipped).")
    fallback_keys_file: str | None = Field(None, description="Keys to use when neither keys nor keys_file is given (e.g. the target's popular keys).")
    path: str = Field("/admin/cache/warm", description="The warm endpoint's path.")
    batch_size: int = Field(100, ge=1, le=1000)
    concurrency: int = Field(8, ge=1, le=128)
    retries: int = Field(3, ge=0, le=10, description="Extra attempts for a failed batch.")
    sample_size: int = Field(20, ge=0, le=1000, description="How many warmed keys to keep for verification.")
    check_path: str = Field("", description="Where a warmed key is read back, for the sample URLs ({key} stands for it).")
    timeout: float = Field(30.0, gt=0, le=600, description="Seconds per request.")
    seed: int = Field(0, description="Seeds the sample, so runs are reproducible.")
    kv_bulk: bool = Field(False, description="Write `values_file` straight to KV through the API instead of asking the Worker.")
    values_file: str | None = Field(None, description="For kv_bulk: JSON lines of {key, value, expiration_ttl}.")
    config: str | None = Field(None, description="For kv_bulk: the wrangler config whose KV binding names the namespace.")
    binding: str | None = Field(None, description="For kv_bulk: the KV binding the Worker reads its cache from.")
    env: str | None = Field(None, description="For kv_bulk: the wrangler environment of the binding.")
    kv_key: str = Field("{key}", description="For kv_bulk: the KV key a warmed key is stored under.")


@dataclass
class _Tally:
    total: int = 0
    warmed: int = 0
    failed_keys: list[str] = field(default_factory=list)
    failed_batches: int = 0
    retried_batches: int = 0
    sample: list[str] = field(default_factory=list)
    fatal: str | None = None


class CacheWarmAction(Action):
    name = "cache_warm"
    Args = CacheWarmArgs
    summary = "Warm the Worker's cache: batched, concurrent POSTs with retries."
    url_keys = frozenset({"url"})
    outputs = record(total=INTEGER, warmed=INTEGER, failed=INTEGER, failed_keys=array(STRING), failed_batches=INTEGER,
                     retried_batches=INTEGER, sample=array(STRING), sample_urls=array(STRING), seconds=NUMBER,
                     keys_per_second=nullable(NUMBER), namespace_id=optional(STRING),
                     sample_kv_keys=optional(array(STRING)))

    def effect(self, args: CacheWarmArgs) -> str:
        return "write"

    def safe_to_retry(self, args: CacheWarmArgs) -> bool:
        return True  # warming a key twice is the same as once

    def describe(self, args: CacheWarmArgs) -> str:
        if args.kv_bulk:
            return (f"PUT the pairs in {args.values_file} to the KV namespace bound as {args.binding} in {args.config}, "
                    f"1,000 a request, {args.concurrency} at a time (KV bulk write through the API)")
        files = _files(args)
        source = f"keys from {files[0]}" if files else f"{len(_inline(args.keys))} keys"
        return (f"POST {source} to {args.url}{args.path} in batches of {args.batch_size}, "
                f"{args.concurrency} at a time, {args.retries} retries a batch")

    def preflight(self, args: CacheWarmArgs) -> Outputs:
        if args.kv_bulk:
            from ops.actions import kv_fill  # the API's path, and only it, needs the Cloudflare client

            total = kv_fill.count_pairs(_values_file(args))
            return {"keys": total, "batches": -(-total // kv_fill.KV_BULK_BATCH),
                    "namespace_id": kv_fill.namespace_of(_config(args), _binding(args), args.env)}
        if not args.check_path:
            raise InputError("--check-path is not set: where a warmed key is read back (X-Cache-Status), e.g. "
                             "/v1/items/{key}; pass it, or set check_path in the target's [targets.<name>.params.cache-warm]")
        if not args.secret:
            raise InputError("the Worker's warm secret is not set: pass --secret (env:NAME, stdin, file:PATH) "
                             "or export CACHE_WARM_SECRET; --kv-bulk needs none")
        total = count_keys(args)
        return {"keys": total, "batches": -(-total // args.batch_size)}

    def run(self, args: CacheWarmArgs, ctx: Context) -> Outputs:
        from ops.actions import kv_fill

        started = time.perf_counter()
        if args.kv_bulk:
            total = kv_fill.count_pairs(_values_file(args))
            tally = _fill(args, ctx, total)
        else:
            total = count_keys(args)
            tally = asyncio.run(_warm(args, ctx, total))
        seconds = time.perf_counter() - started
        if tally.fatal:
            raise RemediationFailed(f"{tally.fatal}; warmed {tally.warmed} of {total} keys before stopping")
        kv = {"namespace_id": kv_fill.namespace_of(_config(args), _binding(args), args.env),
              "sample_kv_keys": [args.kv_key.format(key=k) for k in tally.sample]} if args.kv_bulk else {}
        return {
            **kv,
            "total": total, "warmed": tally.warmed, "failed": len(tally.failed_keys),
            "failed_keys": tally.failed_keys[:50], "failed_batches": tally.failed_batches,
            "retried_batches": tally.retried_batches, "sample": tally.sample,
            "sample_urls": [args.url + args.check_path.format(key=quote(k, safe="")) for k in tally.sample],
            "seconds": round(seconds, 3), "keys_per_second": round(tally.warmed / seconds, 1) if seconds else None,
        }


def _values_file(args: CacheWarmArgs) -> str:
    if not args.values_file:
        raise InputError("--kv-bulk writes the pairs of --values-file; give one (JSON lines of {\"key\": ..., \"value\": ...})")
    return args.values_file


def _binding(args: CacheWarmArgs) -> str:
    if not args.binding:
        raise InputError("--kv-bulk needs the cache's KV binding: pass --kv-binding NAME (the target's wrangler config "
                         "binds several KV namespaces, or none)")
    return args.binding


def _config(args: CacheWarmArgs) -> str:
    if not args.config:
        raise InputError("--kv-bulk needs the wrangler config that binds the cache namespace (the target's wrangler_config)")
    return args.config


def _fill(args: CacheWarmArgs, ctx: Context, total: int) -> _Tally:
    from ops.actions import kv_fill

    tally = _Tally(total=total)
    sampler = _Sampler(args.sample_size, args.seed)
    last_report = [0.0]

    def settled(keys: list[str], failed: list[str]) -> None:
        tally.warmed += len(keys) - len(failed)
        tally.failed_keys.extend(failed)
        tally.failed_batches += bool(failed)
        _report(ctx, tally, last_report)

    def pairs() -> Iterator[tuple[str, dict[str, Any]]]:
        for key, pair in kv_fill.iter_pairs(_values_file(args), args.kv_key):
            if ctx.cancel.is_set():
                return
            sampler.add(key)
            yield key, pair

    namespace_id = kv_fill.namespace_of(_config(args), _binding(args), args.env)
    kv_fill.fill(ctx.cloudflare(), namespace_id, pairs(), concurrency=args.concurrency, on_batch=settled)
    tally.sample = sampler.items
    _report(ctx, tally, last_report, final=True)
    return tally


class _Sampler:
    """A reservoir sample of the keys sent, so verification reads back a fair few of them."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seen, self._rng = size, 0, random.Random(seed)
        self.items: list[str] = []

    def add(self, key: str) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(key)
        elif self.size and (j := self._rng.randrange(self.seen)) < self.size:
            self.items[j] = key


def _inline(keys: list[str] | str) -> list[str]:
    items = keys.split(",") if isinstance(keys, str) else keys
    return [k.strip() for k in items if k.strip()]


def _files(args: CacheWarmArgs) -> list[str]:
    if args.keys_file:
        return [args.keys_file]
    if not _inline(args.keys) and args.fallback_keys_file:
        return [args.fallback_keys_file]
    return []


def iter_keys(args: CacheWarmArgs) -> Iterator[str]:
    yield from _inline(args.keys)
    for name in _files(args):
        for _, key in file_keys(Path(name)):
            yield key


def count_keys(args: CacheWarmArgs) -> int:
    """Validate every key before any is sent; return how many there are."""
    count = 0
    for key in _inline(args.keys):
        _check_key(key, "--keys")
        count += 1
    for name in _files(args):
        count += sum(1 for _ in file_keys(Path(name)))
    if count == 0:
        raise InputError("no keys to warm: give --keys, --keys-file, or a popular-keys file in the target")
    return count


def file_keys(path: Path) -> Iterator[tuple[int, str]]:
    """The keys of a key file with their line numbers: one a line, blanks and # comments skipped."""
    for number, raw in numbered_lines(path, "key file", max_line=MAX_KEY_LINE, max_bytes=MAX_KEY_FILE):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}:{number}:{exc.start + 1}: invalid UTF-8 in the key file; save it as UTF-8 text, one key a line") from None
        if line and not line.startswith("#"):
            _check_key(line, f"{path}:{number}")
            yield number, line


def _check_key(key: str, where: str) -> None:
    if len(key) > MAX_KEY_LEN:
        raise InputError(f"{where}: a key is {len(key)} characters; keys may be at most {MAX_KEY_LEN}")
    if any(ord(c) < 32 or c == "\x7f" for c in key):
        raise InputError(f"{where}: a key holds a control character; one key a line, printable text only")


async def _warm(args: CacheWarmArgs, ctx: Context, total: int) -> _Tally:
    tally = _Tally(total=total)
    sampler = _Sampler(args.sample_size, args.seed)
    gate = asyncio.Semaphore(args.concurrency)
    import httpx

    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    if not args.secret:
        raise InputError("the Worker's warm secret is not set: pass --secret (env:NAME, stdin, file:PATH) "
                         "or export CACHE_WARM_SECRET; --kv-bulk needs none")
    headers = {"X-Cache-Warm-Secret": args.secret, "content-type": "application/json"}
    last_report = [0.0]
    from ops import http

    from ops.egress import AsyncEgressTransport

    egress = ctx.target.egress()
    egress.check(httpx.Request("POST", args.url + args.path, headers=headers), read_only=ctx.dry_run)  # before any batch
    guarded = AsyncEgressTransport(httpx.AsyncHTTPTransport(retries=0, limits=limits), egress, read_only=ctx.dry_run)
    async with http.async_client(read_only=ctx.dry_run, timeout=args.timeout, transport=guarded,
                                 headers=headers) as client:
        pending: set[asyncio.Task[None]] = set()
        for batch in batched(iter_keys(args), args.batch_size):
            if tally.fatal or ctx.cancel.is_set():
                break
            for key in batch:
                sampler.add(key)
            await gate.acquire()
            task = asyncio.create_task(_send(client, args, batch, tally, gate))
            pending.add(task)
            task.add_done_callback(pending.discard)
            _report(ctx, tally, last_report)
        if pending:
            await asyncio.gather(*pending)
    tally.sample = sampler.items
    _report(ctx, tally, last_report, final=True)
    return tally


async def _send(client: httpx.AsyncClient, args: CacheWarmArgs, batch: list[str], tally: _Tally,
                gate: asyncio.Semaphore) -> None:
    try:
        keys = batch
        for attempt in range(args.retries + 1):
            if attempt:
                tally.retried_batches += 1
                await asyncio.sleep(min(0.2 * 2 ** attempt, 5.0) * (0.5 + random.random()))
            keys = await _post(client, args, keys, tally)
            if not keys or tally.fatal:
                return
        tally.failed_batches += 1
        tally.failed_keys.extend(keys)
    finally:
        gate.release()


async def _post(client: httpx.AsyncClient, args: CacheWarmArgs, keys: list[str], tally: _Tally) -> list[str]:
    """Send one batch; return the keys still to retry."""
    import httpx

    try:
        response = await client.post(args.url + args.path, json={"keys": keys})
    except httpx.HTTPError:
        return keys
    if response.status_code in FATAL or (response.status_code == 503 and "secret" in response.text.lower()):
        tally.fatal = FATAL.get(response.status_code) or f"the Worker cannot warm: {response.text[:200]}"
        return keys
    if response.status_code >= 300:
        return keys
    failed = _failed_keys(response, keys)
    tally.warmed += len(keys) - len(failed)
    return failed


def _failed_keys(response: httpx.Response, keys: list[str]) -> list[str]:
    try:
        body: Any = response.json()
    except ValueError:
        return []
    failed = body.get("failed_keys") if isinstance(body, dict) else None
    return [k for k in failed if isinstance(k, str)] if isinstance(failed, list) else []


def _report(ctx: Context, tally: _Tally, last: list[float], final: bool = False) -> None:
    now = time.monotonic()
    if ctx.progress is None or (not final and now - last[0] < 0.2):
        return
    last[0] = now
    done = tally.warmed + len(tally.failed_keys)
    ctx.progress(f"cache warm: {tally.warmed}/{tally.total} warmed, {len(tally.failed_keys)} failed"
                 + ("" if not final else f" ({done} settled)"))
