"""limits and retention (issue 12): the queue's "ahead" count, expired contents, kept answer lengths,
the rater pseudonym key, and an index for each user's tasks in the last hour

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:00:00
"""
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_ahead', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('parent_channel', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('expired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_task_requester', ['platform', 'requester_id', 'created_at'], unique=False)
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chars', sa.Integer(), nullable=True))
    op.create_table(
        'pseudonym_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('pseudonym_key')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('chars')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_requester')
        batch_op.drop_column('expired_at')
        batch_op.drop_column('parent_channel')
        batch_op.drop_column('queue_ahead')
