"""No message content in logs, even at DEBUG: the e2e server runs with DEBUG and a secret text."""

from __future__ import annotations

import logging

from samverkan.logs import CONTENT_LOGGERS, configure


def test_content_loggers_are_capped_even_at_debug() -> None:
    configure("DEBUG")
    for name in CONTENT_LOGGERS:
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
