"""With an app id configured, only requests carrying a valid Bot Framework JWT get through.

The adapter is pointed at a local OpenID metadata/JWKS endpoint (a thread with http.server: the
SDK fetches metadata with blocking `requests`), and tokens are signed with a test RSA key.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.app import create_app
from samverkan.settings import Settings
from tests.fakes import teams
from tests.fakes.connector import FakeConnector
from tests.fakes.router import EchoRouter

APP_ID = "00000000-1111-2222-3333-444444444444"
ISSUER = "https://api.botframework.test"
KID = "test-key-1"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return _key()


@pytest.fixture(scope="module")
def openid_server(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update(kid=KID, use="sig", alg="RS256", endorsements=["msteams"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path.endswith("/openid-configuration"):
                body: dict[str, Any] = {
                    "issuer": ISSUER,
                    "jwks_uri": f"{base}/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            elif self.path == "/keys":
                body = {"keys": [jwk]}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A unique path per run: the SDK caches metadata per URL for a day.
    yield f"http://127.0.0.1:{server.server_address[1]}/{uuid.uuid4().hex}/.well-known/openid-configuration"
    server.shutdown()


def token(key: rsa.RSAPrivateKey, service_url: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": APP_ID,
        "nbf": now - 10,
        "exp": now + 3600,
        "serviceurl": service_url,
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


def auth_settings(tmp_path: Path, openid_server: str, **extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="test-secret",
        SAMVERKAN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'auth.sqlite3'}",
        SAMVERKAN_KB_DIR=str(Path(__file__).parent.parent / "fixtures" / "kb-min"),
        SAMVERKAN_AUTH_OPENID_METADATA_URL=openid_server,
        SAMVERKAN_AUTH_TOKEN_ISSUER=ISSUER,
        # Outbound tokens are not part of this test: an unreachable login endpoint fails fast.
        SAMVERKAN_AUTH_LOGIN_URL="https://127.0.0.1:9/",
        SAMVERKAN_AUTH_OAUTH_SCOPE="https://api.botframework.test",
        **extra,
    )


@pytest.fixture
async def auth_client(
    tmp_path: Path, openid_server: str
) -> AsyncIterator[tuple[TestClient, EchoRouter, FakeConnector]]:
    connector = FakeConnector()
    await connector.start()
    router = EchoRouter()
    # The fake Bot Connector is http on loopback: allowed only with the insecure-local setting.
    settings = auth_settings(tmp_path, openid_server, SAMVERKAN_INSECURE_LOCAL="1")
    app = create_app(settings, router_factory=lambda _s: router, background=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client, router, connector
    finally:
        await client.close()
        await connector.stop()


async def _post(client: TestClient, activity: dict[str, Any], auth: str | None) -> int:
    headers = {"Authorization": auth} if auth is not None else {}
    r = await client.post("/api/messages", json=activity, headers=headers)
    return r.status


async def test_request_without_token_is_401(auth_client: Any) -> None:
    client, router, connector = auth_client
    assert await _post(client, teams.message(connector.url, "c", "u", "hej"), None) == 401
    assert router.seen == []


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "not-bearer",
        "wrong-key",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "wrong-serviceurl",
        "unknown-kid",
        "no-exp",
        "exp-not-a-number",
    ],
)
async def test_invalid_tokens_are_401(
    auth_client: Any, signing_key: rsa.RSAPrivateKey, case: str
) -> None:
    client, router, connector = auth_client
    act = teams.message(connector.url, "c", "u", "hej")
    tok = {
        "garbage": lambda: "Bearer abc.def.ghi",
        "not-bearer": lambda: "Basic dXNlcjpwYXNz",
        "wrong-key": lambda: "Bearer " + token(_key(), connector.url),
        "expired": lambda: (
            "Bearer "
            + token(
                signing_key, connector.url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200
            )
        ),
        "wrong-audience": lambda: "Bearer " + token(signing_key, connector.url, aud="someone-else"),
        "wrong-issuer": lambda: (
            "Bearer " + token(signing_key, connector.url, iss="https://evil.example")
        ),
        "wrong-serviceurl": lambda: "Bearer " + token(signing_key, "https://other.example/"),
        "unknown-kid": lambda: (
            "Bearer "
            + jwt.encode(
                {
                    "iss": ISSUER,
                    "aud": APP_ID,
                    "exp": int(time.time()) + 60,
                    "serviceurl": connector.url,
                },
                signing_key,
                algorithm="RS256",
                headers={"kid": "nope"},
            )
        ),
        "no-exp": lambda: (
            "Bearer "
            + jwt.encode(
                {"iss": ISSUER, "aud": APP_ID, "serviceurl": connector.url},
                signing_key,
                algorithm="RS256",
                headers={"kid": KID},
            )
        ),
        "exp-not-a-number": lambda: "Bearer " + token(signing_key, connector.url, exp="never"),
    }[case]()
    assert await _post(client, act, tok) == 401
    assert router.seen == []


async def test_valid_token_is_accepted(auth_client: Any, signing_key: rsa.RSAPrivateKey) -> None:
    client, router, connector = auth_client
    act = teams.message(connector.url, "c", "u", "hej med token")
    status = await _post(client, act, "Bearer " + token(signing_key, connector.url))
    assert status == 200
    assert [i.text for i in router.seen] == ["hej med token"]


async def test_token_is_checked_before_the_body_is_read(auth_client: Any) -> None:
    """A request without a token is refused on its headers: the server does not wait for (or
    parse) a body it would throw away."""
    client, router, _ = auth_client
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(
            b"POST /api/messages HTTP/1.1\r\nHost: bot\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n"
            b'{"type": "message", "text": "'
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
    assert status_line.split()[1] == b"401"
    assert router.seen == []


@pytest.mark.parametrize("auth", [None, "Bearer abc.def.ghi"])
async def test_unauthenticated_garbage_is_401_not_400(auth_client: Any, auth: str | None) -> None:
    client, router, _ = auth_client
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    r = await client.post("/api/messages", data=b"{not json", headers=headers)
    assert r.status == 401
    assert router.seen == []


async def test_http_service_url_is_refused_when_auth_is_on(
    tmp_path: Path, openid_server: str, signing_key: rsa.RSAPrivateKey
) -> None:
    """Without SAMVERKAN_INSECURE_LOCAL an authenticated bot only talks to https serviceUrls,
    even on loopback; the token's own serviceurl claim does not change that."""
    router = EchoRouter()
    app = create_app(
        auth_settings(tmp_path, openid_server), router_factory=lambda _s: router, background=False
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        for service_url in ("http://127.0.0.1:9/", "http://smba.example.net/emea/"):
            act = teams.message(service_url, "c", "u", "hej")
            r = await client.post(
                "/api/messages",
                json=act,
                headers={"Authorization": "Bearer " + token(signing_key, service_url)},
            )
            assert r.status == 400, service_url
            assert "https" in (await r.json())["error"]
        assert router.seen == []
    finally:
        await client.close()


async def test_insecure_local_allows_http_only_on_loopback(
    auth_client: Any, signing_key: rsa.RSAPrivateKey
) -> None:
    client, router, _ = auth_client
    service_url = "http://smba.example.net/emea/"
    act = teams.message(service_url, "c", "u", "hej")
    status = await _post(client, act, "Bearer " + token(signing_key, service_url))
    assert status == 400
    assert router.seen == []
