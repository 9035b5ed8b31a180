"""the review of companies typed by hand (re-verification result, administrators' decision) and the audit log

Revision ID: registry0002
Revises: registry0001
Create Date: 2026-12-07 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'registry0002'
down_revision = 'registry0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it too): no table copy, the partial unique index stays as it is.
    op.add_column('companies', sa.Column('review_status', sa.String(length=10), nullable=True))
    op.add_column('companies', sa.Column('reverified_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('companies', sa.Column('reverify_outcome', sa.String(length=12), nullable=True))
    op.add_column('companies', sa.Column('reverify_detail', sa.String(length=300), nullable=True))
    op.create_index('ix_companies_review_status', 'companies', ['review_status'])
    # Manual entries still waiting are pending; those INSEE confirmed since cannot be told apart any more.
    op.execute("UPDATE companies SET review_status = 'pending' WHERE source = 'manual' AND NOT verified")
    op.create_table('audit_log',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=100), nullable=False),
    sa.Column('actor_name', sa.String(length=200), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=True),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_company_id', 'audit_log', ['company_id'])


def downgrade() -> None:
    op.drop_index('ix_audit_log_company_id', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_companies_review_status', table_name='companies')
    for column in ('reverify_detail', 'reverify_outcome', 'reverified_at', 'review_status'):
        op.drop_column('companies', column)
