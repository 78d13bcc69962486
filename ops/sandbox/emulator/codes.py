"""Every error code the emulator answers, each with where it comes from or why it was made up.

``SOURCED_CODES``: a code with a reference (workers-sdk's wrangler and deploy-helpers at
f8308360, miniflare's local explorer, cloudflare-typescript, Cloudflare's docs, or an issue quoting
the API's answer). ``INVENTIONS``: a code no reference gives for that case, chosen here; ops never
matches on one. ``INVENTED_BEHAVIOURS``: what the emulator does that no reference documents.
tests/cloudflare/test_emulator_codes.py fails when an emulator module answers a code in neither map.
"""

from __future__ import annotations

SDK = "workers-sdk@f8308360 packages/"

SOURCED_CODES: dict[int, str] = {
    7003: f"{SDK}miniflare/src/workers/local-explorer/openapi.local.json (\"Could not route to …\")",
    7404: f"{SDK}deploy-helpers/src/deploy/helpers/provision-bindings.ts (a D1 database not found; wrangler relies on it)",
    7502: f"{SDK}wrangler/src/d1/create.ts (\"A database with that name already exists\"; wrangler relies on it)",
    10000: f"{SDK}wrangler/src/core/handle-errors.ts (\"Authentication error\")",
    10006: f"{SDK}deploy-helpers/src/deploy/helpers/provision-bindings.ts; developers.cloudflare.com/r2/api/error-codes/ "
           "(NoSuchBucket)",
    10007: f"{SDK}deploy-helpers/src/deploy/helpers/worker-not-found-error.ts (WORKER_NOT_FOUND_ERR_CODE)",
    10009: f"{SDK}miniflare/src/workers/local-explorer/resources/kv.ts (KV_ERROR_KEY_NOT_FOUND)",
    10013: f"{SDK}miniflare/src/workers/local-explorer/resources/kv.ts (KV_ERROR_NAMESPACE_NOT_FOUND)",
    10014: f"{SDK}wrangler/src/kv/index.ts (a KV namespace title already taken)",
    10021: f"{SDK}deploy-helpers/src/deploy/deploy.ts (\"validation error\")",
    10027: f"{SDK}deploy-helpers/src/deploy/helpers/friendly-validator-errors.ts (workers.api.error.script_too_large)",
    10042: "workers-sdk issue #14249 quotes the API's answer (a KV binding to a namespace that is not valid)",
    10057: f"{SDK}deploy-helpers/src/deploy/helpers/error-codes.ts (INVALID_INHERIT_BINDING_CODE)",
    10079: "workers-sdk issues #705 and #6953 quote the API's answer (a migration tag precondition failed)",
    10200: f"{SDK}deploy-helpers/src/deploy/helpers/check-workflow-conflicts.ts (WORKFLOW_NOT_FOUND_CODE)",
    10211: "cloudflare-docs issue #32982 quotes the API's answer (a version upload with a migration)",
    10215: f"{SDK}wrangler/src/secret/index.ts (VERSION_NOT_DEPLOYED_ERR_CODE)",
    10220: f"{SDK}wrangler/src/versions/rollback/index.ts (CANNOT_ROLLBACK_WITH_MODIFIED_SECERT_CODE)",
}

# Error codes the emulator answers that no reference documents for that case: chosen here, so never match on them in ops.
INVENTIONS: dict[int, str] = {
    971: "a rate-limited request (429; Cloudflare's limits page documents the 429 and five-minute block, not a code)",
    7000: "a path outside /client/v4/accounts/{id}/ (the code is not documented)",
    7400: "a D1 database created without a name, or a query body without `sql` (the code is not documented)",
    7500: "an SQL statement D1 cannot run (the code wrangler prints in public bug reports; no reference gives it)",
    10001: "a KV bulk body that is not a list of at most 10,000 pairs with a key and a value "
           "(the limit is documented, the code is not)",
    10004: "an R2 bucket name already taken in that jurisdiction (the code is not documented)",
    10005: "an R2 bucket name that is not valid (the code is not documented)",
    10019: "a KV namespace created without a title (the code is not documented)",
    10026: "a request body that is not JSON (the code is not documented)",
    10040: "a KV bulk request over 100 MB (413; the limit is documented, the code is not; wrangler's R2 tests use "
           "10040 for malformed JSON)",
    10041: "an unknown cf-r2-jurisdiction",
    10056: "deleting a secret the Worker does not have (the code is not documented)",
    10224: "a deployment of a version outside the 100 most recent (Cloudflare refuses it; its code is not documented)",
    10226: "a deployment of a version across a Durable Object migration (Cloudflare refuses it: "
           "developers.cloudflare.com/workers/configuration/versions-and-deployments/rollbacks/, Limits; "
           "its code and message are not documented)",
    10227: "a deployment of a version that binds a KV namespace, R2 bucket or queue that no longer exists (Cloudflare "
           "refuses it: the same rollbacks page, Limits, Bindings; its code and message are not documented)",
    11000: "a queue that does not exist (the code is not documented)",
    11003: "a queue or message request body that is not valid (the code is not documented)",
    11004: "a consumer that is not valid, or a Worker consumer beside an HTTP pull consumer (the code is not documented)",
    11005: "a queue consumer that does not exist (the code is not documented)",
    11008: "a Worker that already consumes the queue (the code is not documented)",
    11009: "a queue name already taken (the code is not documented)",
    11010: "a pull from a queue without an HTTP pull consumer",
    11011: "a queue message over 128 KB or a batch over 256 KB (413; the limits are documented, the code is not)",
}

INVENTED_BEHAVIOURS: dict[str, str] = {
    "assets buckets": "an assets upload session puts at most 50 hashes in a bucket; Cloudflare's bucket sizes are "
                      "not documented",
    "assets partial upload": "an assets upload that leaves hashes of the manifest missing answers 200 without a jwt; "
                             "the direct-upload page documents only the 201 with the completion jwt",
    "assets tokens": "the upload and completion JWTs are unsigned (alg none) and known by id; wrangler reads only their "
                     "payload (exp)",
    "versions list order": "with deployable=true the list comes newest first, or oldest first when set "
                           "(PUT /__emulator/versions); Cloudflare documents no order, and wrangler sorts it itself",
    "versions list window": "with deployable=true the list holds the 100 most recent versions (those a deployment "
                            "may name); the size of Cloudflare's answer is not documented",
    "consumer names": "a Worker consumer carries both script_name (the API reference) and script (what wrangler's "
                      "ScriptReference reads); which of them Cloudflare returns is not documented",
    "triggered_by rollback": "a deployment of one version older than the newest is annotated workers/triggered_by: "
                             "rollback; wrangler knows the value (versions/list.ts formatTrigger), not when it is set",
    "split deployments": "a split takes at most two versions (wrangler's default --max-versions); Cloudflare's "
                         "limit is not documented; the sandbox's one workerd serves the version with the largest share",
    "random 500s": "a fault-injected 500 answers code 10013, which is KV's namespace-not-found code, not an internal error",
    "GraphQL quantiles": "the GraphQL emulator answers whichever quantile fields its schema setting offers; whether "
                         "Cloudflare's workersInvocationsAdaptive quantiles have wallTimeP95 is not confirmed",
    "v8 queue messages": "a message a Worker with a compatibility date before 2024-03-18 sends (its dead letters) is "
                         "stored as v8 and pulled as such; Cloudflare serialises with v8 then, but what a pull "
                         "answers for one is documented only as \"cannot be read over HTTP\"",
}
