"""The two quotas a run spends (REST 1,200 and GraphQL 300 per 5 minutes), paced by our budgets and by the server's
``Ratelimit`` header, against a scripted edge that answers as Cloudflare's does."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Iterator

import pytest

from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.cloudflare._client import RequestBudget, parse_ratelimit
from ops.cloudflare.analytics import invocations
from ops.errors import TransportError
from tests.cloudflare.scripted_edge import Reply, ScriptedEdge, envelope
from tests.cloudflare.test_production_breaks import ACCOUNT, TOKEN, FakeClock

SCHEMA = json.dumps({"data": {"__type": {"fields": [{"name": "wallTimeP50"}, {"name": "wallTimeP99"}]}},
                     "errors": None}).encode()
ANSWER = json.dumps({"data": {"viewer": {"accounts": [{"workersInvocationsAdaptive": [
    {"sum": {"requests": 7, "errors": 0, "subrequests": 0}, "quantiles": {"wallTimeP50": 1000, "wallTimeP99": 2000},
     "dimensions": {"scriptVersion": "v1", "status": "success"}}]}]}}, "errors": None}).encode()
DEPLETED = json.dumps({"data": None, "errors": [{"message": "rate limiter budget depleted, please try again later",
                                                 "path": None, "extensions": {"timestamp": "2026-12-05T00:00:00Z"}}]}).encode()


@pytest.fixture(autouse=True)
def fresh_schema_cache() -> None:
    """The schema is cached per account and process; a later test's server may reuse an earlier one's port."""
    from ops.cloudflare import analytics

    analytics._schemas.clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def edge() -> Iterator[ScriptedEdge]:
    server = ScriptedEdge([(200, {}, envelope([]))])
    yield server
    server.stop()


def client(edge: ScriptedEdge, clock: FakeClock, *, rest: int = 1000, graphql: int = 250) -> CloudflareClient:
    return CloudflareClient(ACCOUNT, TOKEN, base_url=edge.api_base_url, timeout=5,
                            retry=RetryPolicy(attempts=4, sleep=clock.sleep, rng=random.Random(1), clock=clock),
                            budget=RequestBudget(limit=rest, clock=clock, sleep=clock.sleep),
                            graphql_budget=RequestBudget(limit=graphql, clock=clock, sleep=clock.sleep,
                                                         what="GraphQL queries", quota="300 per 5 minutes"))


def script(edge: ScriptedEdge, *replies: Reply) -> None:
    edge.replies[:] = list(replies)


def window() -> dict[str, datetime]:
    now = datetime.now(timezone.utc)
    return {"since": now, "until": now}


def test_the_ratelimit_header_reads_as_cloudflare_writes_it() -> None:
    assert parse_ratelimit('"default";r=50;t=30') == (50, 30.0)
    assert parse_ratelimit('"default";r=50;t=30, "burst";r=0;t=4') == (0, 4.0)
    assert parse_ratelimit(None) is None and parse_ratelimit("nonsense") is None


def test_nothing_remaining_in_the_ratelimit_header_holds_the_next_request(edge: ScriptedEdge, clock: FakeClock) -> None:
    c = client(edge, clock)
    script(edge, (200, {"ratelimit": '"default";r=0;t=42'}, envelope([])), (200, {}, envelope([])))
    c.request("GET", "/queues")
    assert clock.sleeps == []
    c.request("GET", "/queues")
    assert clock.sleeps == [42.0]
    with c.until(10):
        script(edge, (200, {"ratelimit": '"default";r=0;t=60'}, envelope([])))
        c.request("GET", "/queues")
        with pytest.raises(TransportError, match="Ratelimit header says no API requests remain"):
            c.request("GET", "/queues")


def test_a_graphql_query_spends_both_quotas_and_waits_for_the_smaller(edge: ScriptedEdge, clock: FakeClock) -> None:
    c = client(edge, clock, graphql=2)
    script(edge, (200, {}, SCHEMA), (200, {}, ANSWER), (200, {}, envelope([])), (200, {}, ANSWER))
    invocations(c, "api", **window())  # the schema (once per account and process), then the query: 2 of 2
    assert (c.budget.used, c.graphql_budget.used) == (2, 2)
    c.request("GET", "/queues")  # REST has room
    assert clock.sleeps == []
    invocations(c, "api", **window())
    assert clock.sleeps == [300.0] and c.graphql_budget.used == 1  # the window moved on
    with c.until(5):
        invocations(c, "api", **window())
        with pytest.raises(TransportError, match="sent 2 GraphQL queries in 300 s, the budget that keeps it under 300 per"):
            invocations(c, "api", **window())


def test_graphql_is_retried_on_429_and_on_a_depleted_budget_in_a_200(edge: ScriptedEdge, clock: FakeClock) -> None:
    c = client(edge, clock)
    script(edge, (200, {}, SCHEMA), (429, {"retry-after": "3"}, b'{"errors": [{"message": "Too many requests"}]}'),
           (200, {}, DEPLETED), (200, {}, ANSWER))
    assert invocations(c, "api", **window())["requests"] == 7
    assert len(edge.seen) == 4 and clock.sleeps[0] == 3.0 and len(clock.sleeps) == 2


def test_a_depleted_budget_longer_than_the_step_says_so(edge: ScriptedEdge, clock: FakeClock) -> None:
    from ops.errors import ApiError

    c = client(edge, clock)
    script(edge, (200, {}, SCHEMA), (200, {"retry-after": "300"}, DEPLETED))
    with c.until(30), pytest.raises(ApiError, match="rate limiter budget depleted.*not retried: the wait of 300 s"):
        invocations(c, "api", **window())
