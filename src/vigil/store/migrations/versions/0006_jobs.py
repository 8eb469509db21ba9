"""background jobs in the database (several server processes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "background_job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_background_job_owner_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_background_job_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_job")),
    )
    with op.batch_alter_table("background_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_background_job_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_background_job_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("background_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_background_job_owner_id"))
        batch_op.drop_index(batch_op.f("ix_background_job_created_at"))
    op.drop_table("background_job")
