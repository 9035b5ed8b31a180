"""signed content of enveloping signatures, kept with the report

Revision ID: signature0002
Revises: signature0001
Create Date: 2026-12-06 04:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'signature0002'
down_revision = 'signature0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('verification_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_content', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('verification_reports', schema=None) as batch_op:
        batch_op.drop_column('signed_content')
