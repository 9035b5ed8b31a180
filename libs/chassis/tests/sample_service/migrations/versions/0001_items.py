"""Items.

Revision ID: sample0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "sample0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(20), nullable=False, unique=True))


def downgrade() -> None:
    op.drop_table("items")
