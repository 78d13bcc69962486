"""A loopback emulator of the Cloudflare API subset that cfw-remedy and wrangler use.

Same paths (``/client/v4/accounts/{account_id}/…``), envelope, error codes
(10007 unknown Worker, 10215 secret change while the latest version is not
deployed, 10220 rollback across changed secrets) and paging as Cloudflare. It
accepts ``wrangler deploy``'s multipart upload, keeps the modules, and creates
versions and deployments the way the API does. The real wrangler CLI, pointed
at it with ``CLOUDFLARE_API_BASE_URL``, is the test of its faithfulness.

Admin endpoints (not Cloudflare's), under ``/__emulator/``, need the sandbox's API token
(``Authorization: Bearer <token>``: the state holds secret values), except ``GET health``,
``GET live/SCRIPT`` and the Workers' own D1 and queue bridges (``d1/…``, ``queues/…``):

- ``GET health``
- ``GET requests`` (every request: ts, method, path, query, status), ``DELETE requests``
- ``GET faults``, ``PUT faults`` (``latency_ms``, ``error_rate``, ``rate_limit_rate`` + ``retry_after``,
  ``drop_rate``, ``mutating_only``, ``seed``, ``forced: [{method, path (regex), code, status, message, times}]``),
  ``DELETE faults``
- ``POST reset`` (back to the seed scenario; clears the invocations and the lag), ``GET state``
- ``GET analytics``, ``PUT analytics {"lag_seconds": N}``: the GraphQL Analytics ingestion lag
- ``GET versions``, ``PUT versions {"order": "newest" | "oldest"}``: the order of the deployable versions list
- ``GET invocations`` (what the recording proxies saw), ``DELETE invocations``
- ``GET live/SCRIPT`` (the live version, a split's other one, the shares, and a ``change`` count);
  ``?after=N&wait=S`` answers once the count is no longer N, or after S seconds (at most 30): the followers wait
  on it instead of asking twice a second

``POST /client/v4/graphql`` answers the ``workersInvocationsAdaptive`` dataset
(``ops.sandbox.emulator.graphql``) from the recording proxies
(``ops.sandbox.emulator.proxy``) that the emulator runs in front of each
sandbox Worker (``--proxy SCRIPT=PORT=UPSTREAM_URL``).

Run it with ``python -m ops.sandbox.emulator --port PORT --state FILE [--seed default] [--live-dir DIR]``.
"""

from ops.sandbox.emulator.server import EmulatorHandle, start_emulator

__all__ = ["EmulatorHandle", "start_emulator"]
