"""JSON Schemas hand-transcribed from Cloudflare's reference types, each citing its file and commit.

TS  = cloudflare-typescript @ faaaf89ed8064a9fb54de538ec3e89487f1302b0 (generated from Cloudflare's OpenAPI)
WSDK = workers-sdk @ f8308360283f97d33e188aee2e19c1ef9c09524a (wrangler 4.125's own types)

Request bodies are closed (``additionalProperties: false``): our client may send only
what the reference names. Responses are closed too, so the emulator cannot invent a
field; where wrangler reads a field the OpenAPI types lack, the schema says so.
"""

from __future__ import annotations

from typing import Any

TS = "cloudflare-typescript@faaaf89e"
WSDK = "workers-sdk@f8308360"


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), *, closed: bool = True) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": not closed}


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
ANNOTATIONS = obj({"workers/message": STR, "workers/triggered_by": STR, "workers/tag": STR})

# TS src/resources/workers/scripts/deployments.ts: Deployment, Deployment.Version, Deployment.Annotations
DEPLOYMENT = obj({"id": STR, "created_on": STR, "source": STR, "strategy": {"const": "percentage"},
                  "versions": {"type": "array", "items": obj({"percentage": NUM, "version_id": STR},
                                                             ("percentage", "version_id"))},
                  "annotations": obj({"workers/message": STR, "workers/triggered_by": STR}), "author_email": STR},
                 ("id", "created_on", "source", "strategy", "versions"))
# TS deployments.ts: DeploymentListResponse
DEPLOYMENT_LIST = obj({"deployments": {"type": "array", "items": DEPLOYMENT}}, ("deployments",))
# TS deployments.ts: DeploymentCreateParams less account_id (path) and force (query)
DEPLOYMENT_CREATE_BODY = obj({"strategy": {"const": "percentage"},
                              "versions": {"type": "array", "items": obj({"percentage": NUM, "version_id": STR},
                                                                         ("percentage", "version_id"))},
                              "annotations": obj({"workers/message": STR})},  # "truncated to 1000 bytes"
                             ("strategy", "versions"))

# WSDK packages/wrangler/src/versions/types.ts: ApiVersion (metadata.hasPreview from TS versions.ts
# VersionListResponse.Metadata; the OpenAPI list type names only id, metadata and number)
VERSION = obj({
    "id": STR, "number": INT,
    "metadata": obj({"created_on": STR, "modified_on": STR, "source": STR, "author_id": STR, "author_email": STR,
                     "hasPreview": BOOL}, ("created_on", "modified_on", "source", "author_id", "author_email")),
    "annotations": ANNOTATIONS,
    "resources": obj({"bindings": {"type": "array", "items": {"type": "object", "required": ["type", "name"]}},
                      "script": obj({"etag": STR, "handlers": {"type": ["array", "null"], "items": STR},
                                     "placement_mode": STR, "last_deployed_from": STR}, ("etag", "handlers")),
                      "script_runtime": obj({"compatibility_date": {"type": ["string", "null"]},
                                             "compatibility_flags": {"type": "array", "items": STR},
                                             "usage_model": {"enum": ["bundled", "unbound", "standard"]},
                                             "limits": {"type": "object"},
                                             # TS versions.ts VersionGetResponse.Resources.ScriptRuntime
                                             "migration_tag": STR}, ("usage_model",))},
                     ("bindings", "script", "script_runtime")),
    "startup_time_ms": NUM,
}, ("id", "number", "metadata", "resources"))

# TS src/resources/workers/scripts/secrets.ts: SecretUpdateParams.WorkersSecretModelSecretText (less account_id)
SECRET_PUT_BODY = obj({"name": STR, "text": STR, "type": {"const": "secret_text"}}, ("name", "text", "type"))
# TS secrets.ts: SecretListResponse.WorkersSecretModelSecretText (the text is never returned)
SECRET_ITEM = obj({"name": STR, "type": {"const": "secret_text"}}, ("name", "type"))

# TS src/resources/kv/namespaces/namespaces.ts: Namespace
KV_NAMESPACE = obj({"id": STR, "title": STR, "supports_url_encoding": BOOL, "beta": BOOL}, ("id", "title"))
# TS namespaces.ts: NamespaceBulkUpdateParams.Body (the request body is the array itself)
KV_BULK_BODY = {"type": "array", "maxItems": 10_000,
                "items": obj({"key": {"type": "string", "maxLength": 512}, "value": STR, "base64": BOOL,
                              "expiration": NUM, "expiration_ttl": {"type": "number", "minimum": 60}, "metadata": {}},
                             ("key", "value"))}
# TS namespaces.ts: NamespaceBulkUpdateResponse
KV_BULK_RESULT = obj({"successful_key_count": NUM, "unsuccessful_keys": {"type": "array", "items": STR}})

WORKER_CONSUMER_SETTINGS = obj({"batch_size": NUM, "max_concurrency": NUM, "max_retries": NUM,
                                "max_wait_time_ms": NUM, "retry_delay": NUM})
PULL_CONSUMER_SETTINGS = obj({"batch_size": NUM, "max_retries": NUM, "retry_delay": NUM, "visibility_timeout_ms": NUM})
# TS src/resources/queues/consumers.ts: ConsumerCreateParams.MqWorkerConsumerRequest / MqHTTPConsumerRequest
CONSUMER_CREATE_BODY = {"oneOf": [
    obj({"type": {"const": "worker"}, "script_name": STR, "dead_letter_queue": STR,
         "settings": WORKER_CONSUMER_SETTINGS}, ("script_name", "type")),
    obj({"type": {"const": "http_pull"}, "dead_letter_queue": STR, "settings": PULL_CONSUMER_SETTINGS}, ("type",)),
]}
# TS consumers.ts: Consumer.MqWorkerConsumerResponse / MqHTTPConsumerResponse. ``script`` is what wrangler
# reads (WSDK packages/deploy-helpers/src/triggers/queue-consumers.ts: ScriptReference), so the emulator
# answers both names for a Worker consumer.
CONSUMER = {"oneOf": [
    obj({"consumer_id": STR, "created_on": STR, "dead_letter_queue": STR, "queue_name": STR, "script_name": STR,
         "script": STR, "settings": WORKER_CONSUMER_SETTINGS, "type": {"const": "worker"}},
        ("consumer_id", "type", "script_name")),
    obj({"consumer_id": STR, "created_on": STR, "dead_letter_queue": STR, "queue_name": STR,
         "settings": PULL_CONSUMER_SETTINGS, "type": {"const": "http_pull"}}, ("consumer_id", "type")),
]}
# TS src/resources/queues/queues.ts: Queue, Queue.MqWorkerProducer, Queue.Settings
QUEUE = obj({"consumers": {"type": "array", "items": CONSUMER}, "consumers_total_count": NUM, "created_on": STR,
             "modified_on": STR, "producers": {"type": "array", "items": obj({"script": STR, "type": STR,
                                                                             "bucket_name": STR})},
             "producers_total_count": NUM, "queue_id": STR, "queue_name": STR,
             "settings": obj({"delivery_delay": NUM, "delivery_paused": BOOL, "message_retention_period": NUM})},
            ("queue_id", "queue_name"))

# TS src/resources/queues/messages.ts: MessageBulkPushParams (MqQueueMessageText | MqQueueMessageJson)
PUSH_BATCH_BODY = obj({"delay_seconds": NUM, "messages": {"type": "array", "maxItems": 100, "items": {"oneOf": [
    obj({"body": STR, "content_type": {"const": "text"}, "delay_seconds": NUM}, ("body", "content_type")),
    obj({"body": {}, "content_type": {"const": "json"}, "delay_seconds": NUM}, ("body", "content_type"))]}}},
    ("messages",))
# TS messages.ts: MessagePushResponse / MessageBulkPushResponse.Metadata.Metrics
PUSH_RESULT = obj({"metadata": obj({"metrics": obj({"backlog_bytes": NUM, "backlog_count": NUM,
                                                    "oldest_message_timestamp_ms": NUM},
                                                   ("backlog_bytes", "backlog_count", "oldest_message_timestamp_ms"))})})
# TS messages.ts: MessagePullParams
PULL_BODY = obj({"batch_size": NUM, "visibility_timeout_ms": NUM})
BASE64 = {"type": "string", "pattern": "^[A-Za-z0-9+/]*={0,2}$"}
# TS messages.ts: MessagePullResponse.Message; ``metadata`` is ``unknown`` there, its CF-Content-Type key is the
# docs' (developers.cloudflare.com/queues/configuration/pull-consumers/), as is the base64 of json bodies
PULLED = obj({"id": STR, "attempts": NUM, "body": STR, "lease_id": STR, "metadata": obj(
    {"CF-Content-Type": {"enum": ["text", "json", "bytes", "v8"]}}, ("CF-Content-Type",), closed=False),
    "timestamp_ms": NUM}, ("id", "body", "lease_id", "metadata"))
PULL_RESULT = obj({"message_backlog_count": NUM, "messages": {"type": "array", "items": PULLED},
                   "metadata": {"type": "object"}}, ("messages",))
# TS messages.ts: MessageAckParams (Ack, Retry) and MessageAckResponse
ACK_BODY = obj({"acks": {"type": "array", "items": obj({"lease_id": STR})},
                "retries": {"type": "array", "items": obj({"delay_seconds": NUM, "lease_id": STR})}})
ACK_RESULT = obj({"ackCount": NUM, "retryCount": NUM, "warnings": {"type": "object"}})
# TS messages.ts: MessagePeekParams / MessagePeekResponse.Message
PEEK_BODY = obj({"batch_size": NUM})
PEEKED = obj({"id": STR, "attempts": NUM, "body": STR, "metadata": {"type": "object"}, "ref": STR,
              "timestamp_ms": NUM}, ("id", "body"))
PEEK_RESULT = obj({"messages": {"type": "array", "items": PEEKED}}, ("messages",))

# TS src/resources/r2/buckets/buckets.ts: BucketListResponse, Bucket (names in capitals are what the API sends)
R2_BUCKET = obj({"creation_date": STR, "jurisdiction": {"enum": ["default", "eu", "fedramp"]},
                 "location": {"enum": ["apac", "eeur", "enam", "weur", "wnam", "oc", "APAC", "EEUR", "ENAM", "WEUR",
                                       "WNAM", "OC"]},
                 "name": STR, "storage_class": {"enum": ["Standard", "InfrequentAccess"]}}, ("name",))
R2_LIST = obj({"buckets": {"type": "array", "items": R2_BUCKET}})

# TS src/resources/workers/beta/workers/workers.ts: Worker (what wrangler 4.164's deploy reads for the subdomain)
WORKER = obj({
    "id": STR, "created_on": STR, "logpush": BOOL, "name": STR, "updated_on": STR,
    "deployed_on": {"type": ["string", "null"]},
    "observability": obj({"enabled": BOOL, "head_sampling_rate": NUM, "logs": {"type": "object"},
                          "traces": {"type": "object"}}),
    "references": obj({k: {"type": "array"} for k in ("dispatch_namespace_outbounds", "domains", "durable_objects",
                                                     "queues", "workers")},
                      ("dispatch_namespace_outbounds", "domains", "durable_objects", "queues", "workers")),
    "subdomain": obj({"enabled": BOOL, "preview_url_suffix": STR, "previews_enabled": BOOL, "url": STR}),
    "tags": {"type": "array", "items": STR}, "tail_consumers": {"type": "array", "items": obj({"name": STR}, ("name",))},
}, ("id", "created_on", "logpush", "name", "observability", "references", "subdomain", "tags", "tail_consumers",
    "updated_on"))
# TS src/resources/workers/scripts/scripts.ts: ScriptListResponse (the fields the emulator answers, all named there)
SCRIPT = obj({"id": STR, "compatibility_date": {"type": ["string", "null"]},
              "compatibility_flags": {"type": "array", "items": STR}, "created_on": STR, "etag": STR,
              "handlers": {"type": "array", "items": STR}, "has_assets": BOOL, "has_modules": BOOL,
              "last_deployed_from": STR, "logpush": BOOL, "migration_tag": STR, "modified_on": STR, "tag": STR,
              "tags": {"type": ["array", "null"], "items": STR},
              "usage_model": {"enum": ["standard", "bundled", "unbound"]}}, ("id",))
# TS src/resources/d1/d1.ts: D1 (create and get); d1/database/database.ts DatabaseListResponse is its subset.
# `created_in_region` is not in the type, but production answers it to a create: wrangler's d1 create
# (workers-sdk packages/wrangler/src/d1/create.ts) prints "in region ${db.created_in_region}". Production wins.
D1 = obj({"created_in_region": STR, "created_at": STR, "file_size": NUM, "jurisdiction": {"enum": ["eu", "fedramp", "us", None]}, "name": STR,
          "num_tables": NUM, "read_replication": {"type": "object"}, "uuid": STR, "version": STR}, ("uuid", "name"))

# TS src/resources/workers/scripts/assets/upload.ts: UploadCreateParams (the manifest), UploadCreateResponse
ASSETS_SESSION_BODY = obj({"manifest": {"type": "object", "additionalProperties": obj({"hash": STR, "size": NUM},
                                                                                     ("hash", "size"))}}, ("manifest",))
ASSETS_SESSION = obj({"buckets": {"type": "array", "items": {"type": "array", "items": STR}}, "jwt": STR})
# TS src/resources/workers/assets/upload.ts: UploadCreateResponse (the completion jwt, on the last upload)
ASSETS_UPLOAD = obj({"jwt": STR})
