"""task.files: the text files attached to a task, sent to the models as context (issue 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('files')
