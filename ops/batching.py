"""Fixed-size batches from a stream, without holding more than one batch.

``itertools.batched`` does this from Python 3.12; the project supports 3.11.
"""

from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator, TypeVar

__all__ = ["batched"]

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items in order; the last may be shorter."""
    if size < 1:
        raise ValueError("a batch holds at least one item")
    stream = iter(items)
    while batch := list(islice(stream, size)):
        yield batch
