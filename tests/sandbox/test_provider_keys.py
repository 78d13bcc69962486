"""The fake AI providers check the API key they are sent, where the real provider reads it, and refuse a wrong one
with a 401 in that provider's own shape; their free model list bills nothing."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from ops.sandbox.ports import Ports
from ops.sandbox.providers import serve


@pytest.fixture
def providers() -> Iterator[dict[str, str]]:
    base = Ports.choose().base
    ports = {"openai": base, "anthropic": base + 1, "mistral": base + 2}
    servers = serve(ports)
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    for name, url in urls.items():
        httpx.put(f"{url}/__provider/config", json={"api_key": f"good-{name}-key"}, timeout=5).raise_for_status()
    yield urls
    for server in servers:
        server.shutdown()


def test_each_provider_refuses_a_wrong_key_in_its_own_shape(providers: dict[str, str]) -> None:
    openai = httpx.post(f"{providers['openai']}/v1/summarize", json={"text": "a b"},
                        headers={"Authorization": "Bearer sk-wrong-key-98765"}, timeout=5)
    assert openai.status_code == 401 and openai.json()["error"]["code"] == "invalid_api_key"
    assert openai.json()["error"]["type"] == "invalid_request_error" and "sk-wrong-key-98765" not in openai.text
    missing = httpx.get(f"{providers['openai']}/v1/models", timeout=5).json()["error"]
    assert missing["code"] is None and "didn't provide an API key" in missing["message"]
    anthropic = httpx.get(f"{providers['anthropic']}/v1/models", headers={"Authorization": "Bearer good-anthropic-key"},
                          timeout=5)  # Anthropic reads x-api-key, not a bearer token
    assert anthropic.status_code == 401 and anthropic.json()["error"] == {
        "type": "authentication_error", "message": "x-api-key header is required"}
    mistral = httpx.get(f"{providers['mistral']}/v1/models", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert (mistral.status_code, mistral.json()) == (401, {"detail": "Unauthorized"})


def test_the_right_key_answers_and_only_summaries_are_billed(providers: dict[str, str]) -> None:
    assert httpx.get(f"{providers['anthropic']}/v1/models", headers={"x-api-key": "good-anthropic-key"},
                     timeout=5).status_code == 200
    url = providers["openai"]
    good = {"Authorization": "Bearer good-openai-key"}
    assert httpx.get(f"{url}/v1/models", headers=good, timeout=5).status_code == 200
    assert httpx.post(f"{url}/v1/summarize", json={"text": "one two"}, headers=good, timeout=5).status_code == 200
    config = httpx.get(f"{url}/__provider/config", timeout=5).json()
    assert config["paid"] == 1 and config["api_key_set"] is True and "good-openai-key" not in str(config)
