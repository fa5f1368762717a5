"""The conversation: the router (menu, free text, forum replies), the flow engine over the flows
in knowledge/data/flows, answer and flow cards (plain Adaptive Card JSON) and their catalogue."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

# The conversation's texts: injected into the router (services), read by the rest of dialogs/
# through texts().
MESSAGES = Path(__file__).resolve().with_name("messages.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: dialogs/messages.sv.yaml (read once)."""
    return load_once(MESSAGES)
