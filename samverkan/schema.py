"""Every table the application owns, for Alembic's autogenerate (pass it to alembic_config's
`attributes["metadata"]`) and for tests.

Each domain module with tables is imported here so that its tables register on Base.metadata.
"""

from __future__ import annotations

import storage.models  # noqa: F401
from storage.base import Base

metadata = Base.metadata
