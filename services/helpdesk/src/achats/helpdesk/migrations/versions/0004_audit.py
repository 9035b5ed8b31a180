"""the audit of the FAQ's changes by agents and administrators (issue 17): audit_entries

Revision ID: helpdesk0004
Revises: helpdesk0003
Create Date: 2026-12-07 11:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'helpdesk0004'
down_revision = 'helpdesk0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entries',
                    sa.Column('id', sa.Uuid(), nullable=False),
                    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('actor_id', sa.String(length=64), nullable=False),
                    sa.Column('actor_name', sa.String(length=200), nullable=True),
                    sa.Column('action', sa.String(length=40), nullable=False),
                    sa.Column('target_id', sa.String(length=64), nullable=True),
                    sa.Column('detail', sa.JSON(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
    op.drop_table('audit_entries')
