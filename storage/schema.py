"""Every table the application owns, for Alembic's autogenerate and for tests.

Each domain module with tables is imported here so that its tables register on Base.metadata.
"""

from __future__ import annotations

import storage.forums_models
import storage.models
import storage.registry_models  # noqa: F401
from storage.base import Base

metadata = Base.metadata
