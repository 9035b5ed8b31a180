"""deposits, their files, the consultations' wrapped data keys

Revision ID: consultations0004
Revises: consultations0003
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'consultations0004'
down_revision = 'consultations0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consultation_keys',
        sa.Column('consultation_id', sa.Uuid(), nullable=False),
        sa.Column('master_key_id', sa.String(length=40), nullable=False),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('consultation_id'),
    )
    op.create_table(
        'deposits',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('consultation_id', sa.Uuid(), nullable=False),
        sa.Column('lot_number', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('user_name', sa.String(length=300), nullable=True),
        sa.Column('idempotency_key', sa.String(length=200), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deposited_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
        sa.Column('timestamp_token', sa.LargeBinary(), nullable=False),
        sa.Column('timestamp_serial', sa.String(length=64), nullable=False),
        sa.Column('tsa_name', sa.String(length=500), nullable=False),
        sa.Column('invalid_signatures_confirmed', sa.Boolean(), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('replaced_by', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'idempotency_key', name='uq_deposits_idempotency'),
    )
    op.create_index('ix_deposits_round', 'deposits', ['consultation_id', 'lot_number', 'company_id', 'deadline'])
    op.create_index('ix_deposits_company', 'deposits', ['company_id', 'deposited_at'])
    op.create_table(
        'deposit_files',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('deposit_id', sa.Uuid(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('media_type', sa.String(length=120), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('signature_status', sa.String(length=20), nullable=False),
        sa.Column('signature_report_id', sa.String(length=64), nullable=True),
        sa.Column('signature_indication', sa.String(length=40), nullable=True),
        sa.Column('signers', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['deposit_id'], ['deposits.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_deposit_files_deposit_id', 'deposit_files', ['deposit_id'])


def downgrade() -> None:
    op.drop_table('deposit_files')
    op.drop_table('deposits')
    op.drop_table('consultation_keys')
