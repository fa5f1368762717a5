from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from samverkan.settings import Settings, SettingsError


def make(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


def test_defaults_are_local_and_consistent() -> None:
    s = make()
    assert not s.auth_enabled
    assert s.self_check() == []
    assert s.database_url.startswith("sqlite")


def test_azure_names_are_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "abc")
    monkeypatch.setenv("MicrosoftAppPassword", "pw")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant")
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "postgresql+asyncpg://x@h/db")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.microsoft_app_id == "abc" and s.auth_enabled
    assert s.microsoft_app_tenant_id == "tenant"
    assert s.database_url.startswith("postgresql")
    assert s.self_check() == []


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"MicrosoftAppPassword": "pw"}, "MicrosoftAppId saknas"),
        ({"MicrosoftAppId": "abc"}, "MicrosoftAppPassword saknas"),
        (
            {
                "MicrosoftAppId": "abc",
                "MicrosoftAppPassword": "pw",
                "MicrosoftAppType": "SingleTenant",
            },
            "kräver MicrosoftAppTenantId",
        ),
        (
            {
                "MicrosoftAppId": "abc",
                "MicrosoftAppPassword": "pw",
                "MicrosoftAppType": "UserAssignedMSI",
                "MicrosoftAppTenantId": "t",
            },
            "ingen MicrosoftAppPassword",
        ),
        ({"MicrosoftAppTenantId": "t"}, "MicrosoftAppId saknas"),
    ],
)
def test_inconsistent_auth_settings_are_refused(env: dict[str, str], fragment: str) -> None:
    s = make(**env)
    with pytest.raises(SettingsError, match=fragment):
        s.check_or_raise()


def test_unknown_app_type_is_a_validation_error() -> None:
    with pytest.raises(ValueError):
        make(MicrosoftAppType="Whatever")


def test_serve_refuses_to_start_with_a_clear_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"MicrosoftAppId": "abc", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "MicrosoftAppPassword saknas" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "bot.kommun.se", ""])
def test_listening_beyond_loopback_without_app_id_is_refused(host: str) -> None:
    """Without an app id nobody is authenticated: anyone who can reach the port could drive the
    bot and make it POST to any serviceUrl."""
    with pytest.raises(SettingsError, match="SAMVERKAN_INSECURE_LOCAL"):
        make(SAMVERKAN_HOST=host).check_or_raise()
    assert make(SAMVERKAN_HOST=host, SAMVERKAN_INSECURE_LOCAL="1").self_check() == []
    with_app_id = make(SAMVERKAN_HOST=host, MicrosoftAppId="abc", MicrosoftAppPassword="pw")
    assert with_app_id.self_check() == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_without_app_id_is_fine(host: str) -> None:
    assert make(SAMVERKAN_HOST=host).self_check() == []


def test_link_secret_must_be_long(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="SAMVERKAN_LINK_SECRET"):
        make(SAMVERKAN_LINK_SECRET="kort").check_or_raise()
    assert make(SAMVERKAN_LINK_SECRET="x" * 32).self_check() == []


def test_public_url_must_be_https_when_auth_is_on() -> None:
    auth = {"MicrosoftAppId": "abc", "MicrosoftAppPassword": "pw"}
    with pytest.raises(SettingsError, match="SAMVERKAN_PUBLIC_URL"):
        make(SAMVERKAN_PUBLIC_URL="http://bot.kommun.se", **auth).check_or_raise()
    with pytest.raises(SettingsError, match="SAMVERKAN_PUBLIC_URL"):
        make(SAMVERKAN_PUBLIC_URL="bot.kommun.se").check_or_raise()
    assert make(SAMVERKAN_PUBLIC_URL="https://bot.kommun.se", **auth).self_check() == []
    assert make(SAMVERKAN_PUBLIC_URL="http://127.0.0.1:3978").self_check() == []


def test_serve_refuses_a_public_address_without_app_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--host", "0.0.0.0", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Boten startar inte" in proc.stderr and "MicrosoftAppId" in proc.stderr
    assert "SAMVERKAN_INSECURE_LOCAL=1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_search_index_cache_dir_default_override_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMVERKAN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/x")
    assert make().cache_dir == Path("/var/cache/x/samverkansboten")
    monkeypatch.setenv("SAMVERKAN_CACHE_DIR", "/srv/cache")
    assert make().cache_dir == Path("/srv/cache")
    monkeypatch.setenv("SAMVERKAN_CACHE_DIR", "  ")
    assert make().cache_dir is None


def test_a_test_clock_needs_an_offset_and_is_refused_with_an_app_id() -> None:
    assert make(SAMVERKAN_CLOCK_START="2027-03-01T09:00:00+01:00").clock_start is not None
    with pytest.raises(ValueError):
        make(SAMVERKAN_CLOCK_START="2027-03-01T09:00:00")  # no offset: which instant?
    with_id = make(
        SAMVERKAN_CLOCK_START="2027-03-01T09:00:00+01:00",
        MicrosoftAppId="00000000-0000-0000-0000-000000000001",
        MicrosoftAppPassword="x",
    )
    assert any("SAMVERKAN_CLOCK_START" in p for p in with_id.self_check())
