"""channel controls (issue 12): roster, prompt and budgets per channel, the settings audit, cost estimates

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'settings_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('old', sa.Text(), nullable=True),
        sa.Column('new', sa.Text(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('settings_change', schema=None) as batch_op:
        batch_op.create_index('ix_settings_change_channel', ['platform', 'channel', 'created_at'], unique=False)
    with op.batch_alter_table('channelsettings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prompt', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('budget_daily_usd', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('budget_monthly_usd', sa.Float(), nullable=True))
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_prompt', sa.Text(), nullable=True))
        batch_op.create_index('ix_task_channel', ['platform', 'channel', 'created_at'], unique=False)
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_estimate_usd', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('cost_estimate_usd')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_channel')
        batch_op.drop_column('channel_prompt')
    with op.batch_alter_table('channelsettings', schema=None) as batch_op:
        batch_op.drop_column('budget_monthly_usd')
        batch_op.drop_column('budget_daily_usd')
        batch_op.drop_column('prompt')
    with op.batch_alter_table('settings_change', schema=None) as batch_op:
        batch_op.drop_index('ix_settings_change_channel')
    op.drop_table('settings_change')
