"""tests on tasks: task.tests/show_tests, channelsettings.autorun, the testresult table

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tests', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('show_tests', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('channelsettings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('autorun', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('testresult',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('shown_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('answer_id'),
    )
    with op.batch_alter_table('testresult', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_testresult_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('testresult', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_testresult_created_at'))
    op.drop_table('testresult')
    with op.batch_alter_table('channelsettings', schema=None) as batch_op:
        batch_op.drop_column('autorun')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('show_tests')
        batch_op.drop_column('tests')
