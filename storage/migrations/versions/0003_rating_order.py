"""ratings keep their event time and leave tombstones, so events apply in delivery order

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_us', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('retracted', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute("DELETE FROM rating WHERE retracted")
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_column('retracted')
        batch_op.drop_column('event_us')
