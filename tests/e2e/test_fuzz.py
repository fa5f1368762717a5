"""Malformed and hostile activities against the running server (hypothesis): never a 5xx, the
server keeps running, and other conversations' state is untouched."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.server import ServerProcess
from tests.fakes import teams

pytestmark = pytest.mark.slow

# The serviceUrl of generated activities; each test puts a connector that refuses every reply
# in its place (see `gone_service_url`).
SERVICE_URL = "http://127.0.0.1:9/"


def _connector(status: int) -> Iterator[str]:
    """A connector on loopback that answers every POST with `status`."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"id": "ok"}' if status < 300 else b'{"error": "gone"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def live_service_url() -> Iterator[str]:
    """A connector that takes every reply (the victim's replies must arrive: a turn whose
    replies cannot be delivered is undone, so it would leave no state to protect)."""
    yield from _connector(200)


@pytest.fixture(scope="module")
def gone_service_url() -> Iterator[str]:
    """A connector for a conversation that is gone (404): replies fail at once and are not
    retried, so each hostile turn ends quickly (nothing listening at all would be retried with
    back-off, a second per turn)."""
    yield from _connector(404)


def _aimed(activity: dict[str, Any], service_url: str) -> dict[str, Any]:
    if activity.get("serviceUrl") == SERVICE_URL:
        return {**activity, "serviceUrl": service_url}
    return activity


def post(url: str, data: bytes, content_type: str = "application/json") -> int:
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    db = tmp / "fuzz.sqlite3"
    proc = ServerProcess(env={"SAMVERKAN_DATABASE_URL": f"sqlite:///{db}"}, cwd=tmp)
    asyncio.run(proc.start())
    yield proc, db
    asyncio.run(proc.stop())


def _victim_state(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT key, data FROM bot_state WHERE key LIKE '%victim%' ORDER BY key"
        ).fetchall()
    finally:
        con.close()
    return [(k, json.dumps(json.loads(d), sort_keys=True)) for k, d in rows]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=200),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=6)
    ),
    max_leaves=30,
)
FIELDS = [
    "type",
    "text",
    "value",
    "from",
    "recipient",
    "conversation",
    "serviceUrl",
    "channelId",
    "entities",
    "attachments",
    "channelData",
    "id",
    "replyToId",
    "locale",
    "membersAdded",
    "membersRemoved",
    "action",
    "name",
    "timestamp",
    "deliveryMode",
]


@st.composite
def hostile_activity(draw: st.DrawFn) -> dict[str, Any]:
    base = teams.message(SERVICE_URL, f"fuzz-{draw(st.integers(0, 5))}", "fuzzer", "hej")
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True)):
        action = draw(st.sampled_from(["delete", "replace"]))
        if action == "delete":
            base.pop(field, None)
        else:
            base[field] = draw(json_values)
    if draw(st.booleans()):
        base["type"] = draw(
            st.sampled_from(
                [
                    "message",
                    "conversationUpdate",
                    "installationUpdate",
                    "invoke",
                    "event",
                    "messageReaction",
                    "typing",
                    "x",
                ]
            )
        )
    return base


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(activity=hostile_activity())
def test_hostile_activities_never_get_5xx(
    server: tuple[ServerProcess, Path], gone_service_url: str, activity: dict[str, Any]
) -> None:
    proc, _ = server
    activity = _aimed(activity, gone_service_url)
    status = post(f"{proc.url}/api/messages", json.dumps(activity).encode())
    assert status < 500, (status, activity)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=2000),
    ctype=st.sampled_from(
        ["application/json", "text/plain", "application/json; charset=latin-1", ""]
    ),
)
def test_random_bytes_never_get_5xx(
    server: tuple[ServerProcess, Path], body: bytes, ctype: str
) -> None:
    proc, _ = server
    assert post(f"{proc.url}/api/messages", body, ctype) < 500


def test_victim_conversation_untouched_and_server_alive(
    server: tuple[ServerProcess, Path], live_service_url: str, gone_service_url: str
) -> None:
    proc, db = server
    url = f"{proc.url}/api/messages"
    # A user in the middle of a dialog …
    assert (
        post(
            url,
            json.dumps(
                teams.press(
                    live_service_url,
                    "victim",
                    "victim-user",
                    {"action": "flow.start", "flow": "concern"},
                )
            ).encode(),
        )
        == 200
    )
    before = _victim_state(db)
    assert before, "the victim's dialog state exists"
    # … while hostile traffic hits everything else, including huge and deeply nested bodies.
    nested = "[" * 50_000 + '"x"' + "]" * 50_000
    for body in [
        json.dumps({"type": "message", "text": "ö" * 200_000}).encode(),
        ('{"type": "message", "value": ' + nested + "}").encode(),
        b"[" * 100_000,
        json.dumps(
            teams.message(gone_service_url, "victim-other", "x", "\u0000\ud7ff" * 1000)
        ).encode(),
    ]:
        assert post(url, body) < 500
    assert _victim_state(db) == before
    with urllib.request.urlopen(f"{proc.url}/healthz", timeout=10) as r:
        assert r.status == 200
    assert proc.proc is not None and proc.proc.poll() is None
