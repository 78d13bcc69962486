"""What a secret put costs after a rollback, against a put on a Worker whose latest version is deployed.

On the loopback emulator, with a 1 MiB module, the size of a large bundle. After a rollback, the
secrets API refuses (10215), and the secret goes on a new version built from the deployed one
(ops.cloudflare.secret_versions). This counts that path's API requests and bytes, which count
against the 1,200 requests per 5 minutes, and times both paths. The emulator's times show what
we add on our side, not Cloudflare's latency.

    python bench/secret_after_rollback.py        # OPS_BENCH_QUICK=1 for fewer runs
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import quick, summary, time_call, write_result  # noqa: E402

SCRIPT = "bench-worker"
MODULE = b"export default { fetch() { return new Response('ok') } }\n" + b"//" + b"x" * (2**20) + b"\n"


def main() -> None:
    from ops.cloudflare.operations import put_secret
    from tests.cloudflare.uploads import ACCOUNT, TOKEN, client_of, emulator_in, upload

    runs = 5 if quick() else 20
    with tempfile.TemporaryDirectory() as tmp:
        for handle in emulator_in(Path(tmp)):
            for client in client_of(handle):
                admin = handle.admin_headers
                good = upload(handle.api_base_url, SCRIPT, code=MODULE)
                ordinary = time_call(lambda: put_secret(client, SCRIPT, "KEY", "v"), runs=runs)
                upload(handle.api_base_url, SCRIPT, code=MODULE + b"//bad\n")
                httpx.post(f"{handle.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}/deployments",
                           params={"force": "true"}, headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"strategy": "percentage", "versions": [{"version_id": good, "percentage": 100}]})
                httpx.delete(f"{handle.url}/__emulator/requests", headers=admin)
                put_secret(client, SCRIPT, "KEY", "once")
                requests: list[dict[str, Any]] = httpx.get(f"{handle.url}/__emulator/requests", headers=admin).json()

                samples = []
                for _ in range(runs):  # each from a fresh "bad" upload: the latest version not deployed
                    upload(handle.api_base_url, SCRIPT, code=MODULE + b"//bad\n", deploy=False)
                    started = time.perf_counter()
                    put_secret(client, SCRIPT, "KEY", "v")
                    samples.append((time.perf_counter() - started) * 1000)
                rebuilt = summary(samples)
    result = {"module_bytes": len(MODULE), "ordinary_put": ordinary, "after_rollback_put": rebuilt,
              "after_rollback_requests": [f"{r['method']} {r['path'].split(SCRIPT)[-1] or '/'} {r['status']}"
                                          for r in requests],
              "after_rollback_request_count": len(requests)}
    path = write_result("secret_after_rollback", result)
    print(f"ordinary put: median {ordinary['median_ms']} ms; after a rollback: {len(requests)} requests "
          f"({', '.join(result['after_rollback_requests'])}), median "
          f"{rebuilt['median_ms']} ms over {rebuilt['runs']} runs -> {path}")


if __name__ == "__main__":
    main()
