"""The secret behind signed calendar links (`/forums/<id>.ics?sig=…`).

`SAMVERKAN_LINK_SECRET` when it is set; otherwise a random secret generated on first start and
kept in the database (a state document without expiry), so that every instance and every restart
signs the same links. It is deliberately not derived from the app password: Azure client secrets
expire and are rotated, and that would break every calendar a user has subscribed to.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from bot import texts
from forums.card import calendar_signature
from samverkan.settings import MIN_LINK_SECRET_CHARS, Settings
from storage.state_store import SqlStateStore, StateConflictError

log = logging.getLogger(__name__)

LINK_SECRET_KEY = "secret/calendar-links"


class LinkSecretError(RuntimeError):
    pass


async def load_link_secret(settings: Settings, store: SqlStateStore) -> bytes:
    configured = settings.link_secret.get_secret_value()
    if configured:
        return configured.encode("utf-8")
    for _ in range(3):
        doc = (await store.read([LINK_SECRET_KEY])).get(LINK_SECRET_KEY)
        if doc is not None:
            value = doc.get("secret")
            if not isinstance(value, str) or len(value) < MIN_LINK_SECRET_CHARS:
                raise LinkSecretError(texts().text("links.bad_secret", key=LINK_SECRET_KEY))
            return value.encode("utf-8")
        try:
            await store.insert_new(LINK_SECRET_KEY, {"secret": secrets.token_urlsafe(32)})
            log.info("generated the secret for calendar links")
        except StateConflictError:
            continue  # another instance created it at the same moment: read theirs
    raise LinkSecretError(texts().text("links.no_secret"))


def signature_ok(secret: bytes, forum_id: str, signature: str) -> bool:
    expected = calendar_signature(secret, forum_id)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))
