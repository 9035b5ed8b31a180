"""Deliveries: the helpdesk ticket a mail is about, to list a ticket's mails (issue 17, the back office).

Revision ID: notifier0002
Revises: notifier0001
"""

import sqlalchemy as sa
from alembic import op

revision = "notifier0002"
down_revision = "notifier0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Mails stored before have no ticket (their event's data is not kept): they are not listed by ticket.
    op.add_column("deliveries", sa.Column("ticket_id", sa.String(64), nullable=True))
    op.create_index("ix_deliveries_ticket_id", "deliveries", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_ticket_id", table_name="deliveries")
    op.drop_column("deliveries", "ticket_id")
