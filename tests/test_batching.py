from __future__ import annotations

from itertools import count

import pytest

from ops.batching import batched


def test_batches_keep_order_and_the_last_may_be_short() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []


def test_a_stream_is_read_one_batch_at_a_time() -> None:
    stream = count()
    first = next(batched(stream, 1000))
    assert first == list(range(1000)) and next(stream) == 1000


def test_an_empty_batch_size_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        next(batched(range(3), 0))
