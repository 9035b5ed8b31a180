"""which FAQ questions a requester was shown (per entry deflection): faq_impressions, faq_outcomes.view_id

Revision ID: helpdesk0003
Revises: helpdesk0002
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'helpdesk0003'
down_revision = 'helpdesk0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_impressions',
                    sa.Column('id', sa.Uuid(), nullable=False),
                    sa.Column('view_id', sa.Uuid(), nullable=False),
                    sa.Column('entry_id', sa.Uuid(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['entry_id'], ['faq_entries.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('faq_impressions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_impressions_view_id'), ['view_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faq_impressions_entry_id'), ['entry_id'], unique=False)
    with op.batch_alter_table('faq_outcomes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('view_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_faq_outcomes_view_id'), ['view_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('faq_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_outcomes_view_id'))
        batch_op.drop_column('view_id')
    with op.batch_alter_table('faq_impressions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_impressions_entry_id'))
        batch_op.drop_index(batch_op.f('ix_faq_impressions_view_id'))
    op.drop_table('faq_impressions')
