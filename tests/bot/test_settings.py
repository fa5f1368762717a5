from __future__ import annotations

import subprocess
import sys

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
