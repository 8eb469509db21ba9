"""Alembic environment: vigil always passes its own connection (see vigil.store.db.upgrade)."""

from alembic import context

from vigil.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through vigil.store.db.upgrade (or `vigil db upgrade`)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # vigil.store.db.upgrade runs every migration inside one transaction, SQLite included.
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
