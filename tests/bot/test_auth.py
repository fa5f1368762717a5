"""With an app id configured, only requests carrying a valid Bot Framework JWT get through.

The adapter is pointed at a local OpenID metadata/JWKS endpoint (a thread with http.server: the
SDK fetches metadata with blocking `requests`), and tokens are signed with a test RSA key.
"""

from __future__ import annotations

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


@pytest.fixture
async def auth_client(
    tmp_path: Path, openid_server: str
) -> AsyncIterator[tuple[TestClient, EchoRouter, FakeConnector]]:
    connector = FakeConnector()
    await connector.start()
    router = EchoRouter()
    settings = Settings(  # type: ignore[call-arg]
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="test-secret",
        SAMVERKAN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'auth.sqlite3'}",
        SAMVERKAN_KB_DIR=str(Path(__file__).parent.parent / "fixtures" / "kb-min"),
        SAMVERKAN_AUTH_OPENID_METADATA_URL=openid_server,
        SAMVERKAN_AUTH_TOKEN_ISSUER=ISSUER,
        # Outbound tokens are not part of this test: an unreachable login endpoint fails fast.
        SAMVERKAN_AUTH_LOGIN_URL="https://127.0.0.1:9/",
        SAMVERKAN_AUTH_OAUTH_SCOPE="https://api.botframework.test",
    )
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
    }[case]()
    assert await _post(client, act, tok) == 401
    assert router.seen == []


async def test_valid_token_is_accepted(auth_client: Any, signing_key: rsa.RSAPrivateKey) -> None:
    client, router, connector = auth_client
    act = teams.message(connector.url, "c", "u", "hej med token")
    status = await _post(client, act, "Bearer " + token(signing_key, connector.url))
    assert status == 200
    assert [i.text for i in router.seen] == ["hej med token"]
