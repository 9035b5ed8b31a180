"""consultations, lots, DCE downloads

Revision ID: consultations0001
Revises:
Create Date: 2026-12-07 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'consultations0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consultations',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('reference', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('buyer', sa.String(length=300), nullable=False),
        sa.Column('procedure', sa.String(length=20), nullable=False),
        sa.Column('contract_type', sa.String(length=20), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('cpv_codes', sa.JSON(), nullable=False),
        sa.Column('practice', sa.Boolean(), nullable=False),
        sa.Column('deadline_anchor', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deadline_days', sa.Integer(), nullable=False),
        sa.Column('search_text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reference'),
    )
    op.create_table(
        'lots',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('consultation_id', sa.Uuid(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('cpv_codes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('consultation_id', 'number'),
    )
    op.create_index('ix_lots_consultation_id', 'lots', ['consultation_id'])
    op.create_table(
        'dce_downloads',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('consultation_id', sa.Uuid(), nullable=False),
        sa.Column('company_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('document', sa.String(length=40), nullable=False),
        sa.Column('downloaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dce_downloads_company', 'dce_downloads', ['company_id', 'consultation_id'])


def downgrade() -> None:
    op.drop_table('dce_downloads')
    op.drop_table('lots')
    op.drop_table('consultations')
