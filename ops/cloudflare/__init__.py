"""The Cloudflare API client (httpx) and its typed operations.

Configuration comes from a target or from the variables wrangler reads
(``CLOUDFLARE_API_TOKEN``, ``CLOUDFLARE_ACCOUNT_ID``, ``CLOUDFLARE_API_BASE_URL``).
API failures raise ``ops.errors.ApiError`` (with ``code`` and ``message``);
no usable answer raises ``ops.errors.TransportError``.
"""

from ops.cloudflare._api import (
    ack_messages,
    create_consumer,
    create_deployment,
    create_kv_namespace,
    create_pull_consumer,
    create_split_deployment,
    delete_consumer,
    delete_kv_namespace,
    delete_secret,
    get_queue,
    get_version,
    kv_bulk_put,
    kv_bulk_write,
    list_consumers,
    list_d1,
    list_deployments,
    list_durable_objects,
    list_kv_keys,
    list_kv_namespaces,
    list_queues,
    list_r2,
    list_secrets,
    list_versions,
    peek_messages,
    pull_messages,
    push_messages,
    put_secret,
)
from ops.cloudflare._client import CloudflareClient, RetryPolicy

__all__ = [
    "CloudflareClient",
    "RetryPolicy",
    "ack_messages",
    "create_consumer",
    "create_deployment",
    "create_kv_namespace",
    "create_pull_consumer",
    "create_split_deployment",
    "delete_consumer",
    "delete_kv_namespace",
    "delete_secret",
    "get_queue",
    "get_version",
    "kv_bulk_put",
    "kv_bulk_write",
    "list_consumers",
    "list_d1",
    "list_deployments",
    "list_durable_objects",
    "list_kv_keys",
    "list_kv_namespaces",
    "list_queues",
    "list_r2",
    "list_secrets",
    "list_versions",
    "peek_messages",
    "pull_messages",
    "push_messages",
    "put_secret",
]
