"""Autogenerate the next Alembic migration against a scratch SQLite database.

    .venv/bin/python scripts/new_migration.py "add queues" 0002
"""
import sys
import tempfile
from pathlib import Path

from alembic import command

from ccplane.db.session import alembic_config

with tempfile.TemporaryDirectory() as tmp:
    cfg = alembic_config(f"sqlite+aiosqlite:///{Path(tmp) / 'gen.db'}")
    command.upgrade(cfg, "head")
    command.revision(cfg, message=sys.argv[1], autogenerate=True, rev_id=sys.argv[2])
