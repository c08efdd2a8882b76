"""task category: kind of work and language, and who corrected them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('tagged_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('tagged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_task_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_language'), ['language'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_language'))
        batch_op.drop_index(batch_op.f('ix_task_kind'))
        batch_op.drop_column('tagged_at')
        batch_op.drop_column('tagged_by')
        batch_op.drop_column('language')
        batch_op.drop_column('kind')
