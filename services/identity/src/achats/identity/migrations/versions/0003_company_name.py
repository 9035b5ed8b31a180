"""the user's company name, for the company_name claim of access tokens

Revision ID: identity0003
Revises: identity0002
Create Date: 2026-12-06 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'identity0003'
down_revision = 'identity0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('company_name')
