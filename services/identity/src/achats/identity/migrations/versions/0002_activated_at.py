"""users.activated_at: no login before the first e-mail confirmation; existing accounts count as confirmed

Revision ID: identity0002
Revises: identity0001
Create Date: 2026-12-06 12:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'identity0002'
down_revision = 'identity0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True))
    # Every account that exists was created while login came before the confirmation: it stays usable.
    op.execute("UPDATE users SET activated_at = COALESCE(email_verified_at, created_at)")


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('activated_at')
