"""Every table the application owns, for Alembic's autogenerate (pass it to alembic_config's
`attributes["metadata"]`) and for tests.

Each domain module with tables is imported here so that its tables register on Base.metadata.
"""

from __future__ import annotations

from storage import models, suggestions  # noqa: F401  (their tables register on Base)
from storage.base import Base

metadata = Base.metadata
