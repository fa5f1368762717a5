"""Bot Framework authentication from our typed settings."""

from __future__ import annotations

from typing import Any

from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botframework.connector.auth import (
    AuthenticationConfiguration,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
)

from samverkan.settings import Settings


class _SdkConfig:
    """The attribute names botbuilder's configuration factories look for."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id
        self.APP_PASSWORD = settings.microsoft_app_password.get_secret_value()
        self.APP_TYPE = settings.microsoft_app_type.value
        self.APP_TENANTID = settings.microsoft_app_tenant_id


def build_authentication(settings: Settings) -> BotFrameworkAuthentication:
    """Public-cloud authentication, or parameterised endpoints when the settings override them.

    With no app id the SDK treats authentication as disabled and accepts unauthenticated local
    traffic (Agents Playground, Emulator); with one, every request needs a valid JWT.
    """
    settings.check_or_raise()
    credentials = ConfigurationServiceClientCredentialFactory(_SdkConfig(settings))
    kwargs: dict[str, Any] = {
        "credential_factory": credentials,
        "auth_configuration": AuthenticationConfiguration(),
    }
    if settings.auth_openid_metadata_url:
        kwargs.update(
            channel_service=None,
            validate_authority=False,
            to_channel_from_bot_login_url=settings.auth_login_url or None,
            to_channel_from_bot_oauth_scope=settings.auth_oauth_scope or None,
            to_bot_from_channel_token_issuer=settings.auth_token_issuer,
            to_bot_from_channel_open_id_metadata_url=settings.auth_openid_metadata_url,
            to_bot_from_emulator_open_id_metadata_url=settings.auth_openid_metadata_url,
            oauth_url=None,
            caller_id=None,
        )
    return BotFrameworkAuthenticationFactory.create(**kwargs)
