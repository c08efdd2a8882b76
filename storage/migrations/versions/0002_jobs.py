"""durable jobs: reply targets, answer attempts and truncation, rate counters, the job queue

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00

On PostgreSQL this also installs procrastinate's schema (the job queue several processes share).
"""
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("reply_to", sa.Text(), nullable=True))
        batch.add_column(sa.Column("anchor", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
    with op.batch_alter_table("answer") as batch:
        batch.add_column(sa.Column("truncated", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "ratecounter",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]


def downgrade() -> None:
    op.drop_table("ratecounter")
    with op.batch_alter_table("answer") as batch:
        batch.drop_column("attempts")
        batch.drop_column("truncated")
    with op.batch_alter_table("task") as batch:
        batch.drop_column("notes")
        batch.drop_column("anchor")
        batch.drop_column("reply_to")
