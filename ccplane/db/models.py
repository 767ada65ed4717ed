"""Imports every feature's models so Alembic and create_all see one metadata."""
from ..features.domains.models import Domain  # noqa: F401
from ..features.extensions.models import Extension  # noqa: F401
from ..features.users.models import Membership, User  # noqa: F401
from .base import Base  # noqa: F401
