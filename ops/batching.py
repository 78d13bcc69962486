"""Batches from a stream, without holding more than one batch: by count, or by count and bytes.

``itertools.batched`` does the first from Python 3.12; the project supports 3.11.
"""

from __future__ import annotations

from itertools import islice
from typing import Callable, Iterable, Iterator, TypeVar

from ops.errors import InputError

__all__ = ["batched", "sized_batches"]

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items in order; the last may be shorter."""
    if size < 1:
        raise ValueError("a batch holds at least one item")
    stream = iter(items)
    while batch := list(islice(stream, size)):
        yield batch


def sized_batches(items: Iterable[T], *, count: int, max_bytes: int, size: Callable[[T], int]) -> Iterator[list[T]]:
    """Batches in order of at most ``count`` items and ``max_bytes`` bytes; a single item larger than that is an error."""
    batch: list[T] = []
    used = 0
    for item in items:
        n = size(item)
        if n > max_bytes:
            raise InputError(f"one item is {n:,} bytes, more than the {max_bytes:,} a request may carry")
        if batch and (len(batch) == count or used + n > max_bytes):
            yield batch
            batch, used = [], 0
        batch.append(item)
        used += n
    if batch:
        yield batch
