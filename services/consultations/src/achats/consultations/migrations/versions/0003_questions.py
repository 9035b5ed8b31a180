"""questions to the buyer and their answers

Revision ID: consultations0003
Revises: consultations0002
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'consultations0003'
down_revision = 'consultations0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'questions',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('consultation_id', sa.Uuid(), nullable=False),
        sa.Column('company_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_question', sa.Text(), nullable=True),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_questions_consultation', 'questions', ['consultation_id', 'answered_at'])
    op.create_index('ix_questions_pending', 'questions', ['answered_at', 'asked_at'])


def downgrade() -> None:
    op.drop_table('questions')
