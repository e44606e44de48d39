"""disputes (right of reply) and daily results

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 20:31:16.540697
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('employer_key', sa.String(length=32), nullable=False),
    sa.Column('contact_name', sa.Text(), nullable=False),
    sa.Column('contact', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attachment_type', sa.String(length=40), nullable=True),
    sa.Column('attachment_bytes', sa.Integer(), nullable=True),
    sa.Column('attachment_sha256', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('corrected_status', sa.String(length=12), nullable=True),
    sa.Column('corrected_from', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index('ix_disputes_employer_status', ['employer_key', 'status'], unique=False)

    op.create_table('daily_results',
    sa.Column('release_id', sa.String(length=10), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('employers', sa.Integer(), nullable=False),
    sa.Column('arrears_bhxh', sa.BigInteger(), nullable=False),
    sa.Column('arrears_bhyt', sa.BigInteger(), nullable=False),
    sa.Column('arrears_bhtn', sa.BigInteger(), nullable=False),
    sa.Column('arrears_total', sa.BigInteger(), nullable=False),
    sa.Column('arrears_offenders', sa.BigInteger(), nullable=False),
    sa.Column('delinquent', sa.Integer(), nullable=False),
    sa.Column('evading', sa.Integer(), nullable=False),
    sa.Column('new_offenders', sa.Integer(), nullable=False),
    sa.Column('resolved_offenders', sa.Integer(), nullable=False),
    sa.Column('to_inspection', sa.Integer(), nullable=False),
    sa.Column('to_investigation', sa.Integer(), nullable=False),
    sa.Column('recovered', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], ),
    sa.PrimaryKeyConstraint('release_id', 'province_code')
    )
    with op.batch_alter_table('daily_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daily_results_as_of'), ['as_of'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('daily_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daily_results_as_of'))

    op.drop_table('daily_results')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_disputes_employer_status')

    op.drop_table('disputes')
