"""Alembic itself, imported only when a schema needs migrating (see the package's docstring)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bot.store.migrations import MIGRATIONS_DIR


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def alembic_head() -> str:
    """The newest revision as Alembic reads it from versions/ (HEAD_REVISION must equal it)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


def upgrade_to_head(connection: Connection) -> None:
    """Migrate on a connection `bot.store.migrations.migrating` opened and locked."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
