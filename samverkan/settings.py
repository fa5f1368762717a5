"""Typed settings, read once from the environment (and an optional .env file)."""

from __future__ import annotations

import ipaddress
import json
import os
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, AwareDatetime, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from samverkan import texts

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///samverkan.sqlite3"


class AppType(StrEnum):
    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class SettingsError(ValueError):
    """Inconsistent configuration: the message says what to change."""


MIN_LINK_SECRET_CHARS = 32


def is_loopback(host: str | None) -> bool:
    """True for addresses only this machine can reach: 127.0.0.0/8, ::1 and "localhost"."""
    if not host:
        return False  # "" or None means every interface
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public address


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/samverkansboten, or ~/.cache/samverkansboten."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "samverkansboten"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Azure Bot registration (the names Azure and the Bot Framework samples use).
    microsoft_app_id: str = Field(
        default="", validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID")
    )
    microsoft_app_password: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD"),
    )
    microsoft_app_type: AppType = Field(
        default=AppType.MULTI_TENANT,
        validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE"),
    )
    microsoft_app_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"),
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias="SAMVERKAN_DATABASE_URL"
    )
    host: str = Field(default="127.0.0.1", validation_alias="SAMVERKAN_HOST")
    port: int = Field(default=3978, ge=1, le=65535, validation_alias="SAMVERKAN_PORT")
    public_url: str = Field(
        default="",
        validation_alias="SAMVERKAN_PUBLIC_URL",
        description="External https base URL of the bot (for calendar links in cards).",
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=4096, validation_alias="SAMVERKAN_MAX_BODY_BYTES"
    )
    max_text_chars: int = Field(
        default=4000,
        ge=100,
        validation_alias="SAMVERKAN_MAX_TEXT_CHARS",
        description="Longer messages are cut to this many characters before they are read.",
    )
    kb_dir: Path | None = Field(default=None, validation_alias="SAMVERKAN_KB_DIR")
    cache_dir: Path | None = Field(
        default_factory=lambda: default_cache_dir(),
        validation_alias="SAMVERKAN_CACHE_DIR",
        description=(
            "Where the built search index and the trained situations model are kept between "
            "starts (each is rebuilt when the knowledge base, the code or a library changes). "
            "Empty: nothing is cached."
        ),
    )
    # The municipality profile (knowledge/data/kommuner/<id>) whose routines answers add;
    # empty: the example profile knowledge.kommun.DEFAULT_KOMMUN.
    kommun: str = Field(default="", validation_alias="SAMVERKAN_KOMMUN")
    # A folder of more municipality profiles (one subfolder each; they win by id).
    kommun_dir: Path | None = Field(default=None, validation_alias="SAMVERKAN_KOMMUN_DIR")
    # Teams tenant id -> profile id, as JSON, so that one server serves several
    # municipalities; other tenants get SAMVERKAN_KOMMUN.
    tenant_kommuner: dict[str, str] = Field(
        default_factory=dict, validation_alias="SAMVERKAN_TENANT_KOMMUNER"
    )
    dialog_ttl_hours: float = Field(
        default=24.0, gt=0, validation_alias="SAMVERKAN_DIALOG_TTL_HOURS"
    )
    scheduler_interval_seconds: float = Field(
        default=30.0, gt=0, validation_alias="SAMVERKAN_SCHEDULER_INTERVAL"
    )
    scheduler_enabled: bool = Field(default=True, validation_alias="SAMVERKAN_SCHEDULER_ENABLED")
    send_rate_per_second: int = Field(
        default=50, ge=1, le=1000, validation_alias="SAMVERKAN_SEND_RATE",
        description=(
            "Proactive messages per second from this instance (Teams allows about 50 per app "
            "and tenant: with N instances, set 50/N)."
        ),
    )
    log_level: str = Field(default="INFO", validation_alias="SAMVERKAN_LOG_LEVEL")
    clock_start: AwareDatetime | None = Field(
        default=None,
        validation_alias="SAMVERKAN_CLOCK_START",
        description=(
            "For tests of a whole server only (refused with MicrosoftAppId): the bot's clock "
            "starts at this instant (ISO 8601 with an offset) and runs in real time from there."
        ),
    )
    insecure_local: bool = Field(
        default=False,
        validation_alias="SAMVERKAN_INSECURE_LOCAL",
        description=(
            "For isolated test set-ups only: listen beyond loopback without an app id, and "
            "accept http:// serviceUrls on loopback with one."
        ),
    )
    link_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias="SAMVERKAN_LINK_SECRET",
        description=(
            "Key for the signatures of calendar links (at least 32 characters). Empty: one is "
            "generated on first start and kept in the database."
        ),
    )

    # Overrides of the Bot Framework's token endpoints (sovereign clouds, and the tests that
    # sign their own tokens). Empty means the public Azure cloud defaults.
    auth_openid_metadata_url: str = Field(
        default="", validation_alias="SAMVERKAN_AUTH_OPENID_METADATA_URL"
    )
    auth_token_issuer: str = Field(default="", validation_alias="SAMVERKAN_AUTH_TOKEN_ISSUER")
    auth_login_url: str = Field(default="", validation_alias="SAMVERKAN_AUTH_LOGIN_URL")
    auth_oauth_scope: str = Field(default="", validation_alias="SAMVERKAN_AUTH_OAUTH_SCOPE")

    @field_validator("tenant_kommuner", mode="before")
    @classmethod
    def _tenant_map_from_json(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("kommun_dir", mode="before")
    @classmethod
    def _no_kommun_dir_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _no_cache_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def auth_enabled(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def auth_mode(self) -> str:
        if not self.auth_enabled:
            return "none (local, unauthenticated)"
        return f"bot-framework-jwt ({self.microsoft_app_type.value})"

    def self_check(self) -> list[str]:
        """Problems that make the settings inconsistent or unsafe; empty when they are fine."""
        return self._auth_problems() + self._exposure_problems()

    def _exposure_problems(self) -> list[str]:
        problems: list[str] = []
        if not self.auth_enabled and not self.insecure_local and not is_loopback(self.host):
            listening = self.host or texts().text("settings.all_addresses")
            problems.append(texts().text("settings.exposed", host=listening))
        if self.clock_start is not None and self.auth_enabled:
            problems.append(texts().text("settings.clock_start"))
        secret = self.link_secret.get_secret_value()
        if secret and len(secret) < MIN_LINK_SECRET_CHARS:
            problems.append(texts().text("settings.short_secret", min=MIN_LINK_SECRET_CHARS))
        public = self.public_url.strip()
        if public:
            try:
                parts = urlsplit(public)
                host = parts.hostname
            except ValueError:  # e.g. a broken IPv6 literal
                parts, host = urlsplit(""), None
            if parts.scheme not in ("http", "https") or not host:
                problems.append(texts().text("settings.public_url"))
            elif (
                parts.scheme != "https"
                and self.auth_enabled
                and not (self.insecure_local and is_loopback(host))
            ):
                problems.append(texts().text("settings.public_url_https"))
        return problems

    def _auth_problems(self) -> list[str]:
        problems: list[str] = []
        app_id = self.microsoft_app_id.strip()
        password = self.microsoft_app_password.get_secret_value()
        tenant = self.microsoft_app_tenant_id.strip()
        if not app_id:
            if password:
                problems.append(texts().text("settings.password_without_id"))
            if tenant:
                problems.append(texts().text("settings.tenant_without_id"))
            return problems
        if self.microsoft_app_type is AppType.USER_ASSIGNED_MSI:
            if password:
                problems.append(texts().text("settings.msi_password"))
        elif not password:
            problems.append(
                texts().text("settings.no_password", app_type=self.microsoft_app_type.value)
            )
        if (
            self.microsoft_app_type in (AppType.SINGLE_TENANT, AppType.USER_ASSIGNED_MSI)
            and not tenant
        ):
            problems.append(
                texts().text("settings.no_tenant", app_type=self.microsoft_app_type.value)
            )
        if self.auth_openid_metadata_url and not self.auth_token_issuer:
            problems.append(texts().text("settings.openid_without_issuer"))
        return problems

    def check_or_raise(self) -> None:
        problems = self.self_check()
        if problems:
            raise SettingsError(texts().text("settings.problems", problems="\n- ".join(problems)))
