"""turns (issue 11): follow-ups are tasks chained to their first turn; answers record dropped context

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('root_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('turn', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_index(batch_op.f('ix_task_root_id'), ['root_id'], unique=False)
        batch_op.create_foreign_key('fk_task_root_id_task', 'task', ['root_id'], ['id'])
        batch_op.create_index('ix_task_thread', ['platform', 'thread'], unique=False)
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context_dropped', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('context_dropped')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_thread')
        batch_op.drop_constraint('fk_task_root_id_task', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_task_root_id'))
        batch_op.drop_column('turn')
        batch_op.drop_column('root_id')
