"""Baseline: the schema as the first releases were published (create_all of the models on main).

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('employers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('tax_code', sa.String(length=14), nullable=True),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('personal_id_hash', sa.String(length=64), nullable=True),
    sa.Column('personal_id_masked', sa.String(length=12), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('ownership_type', sa.String(length=120), nullable=False),
    sa.Column('sector', sa.String(length=200), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('employers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employers_personal_id_hash'), ['personal_id_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_employers_province_code'), ['province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_employers_tax_code'), ['tax_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_employers_unit_code'), ['unit_code'], unique=False)

    op.create_table('releases',
    sa.Column('id', sa.String(length=10), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('partial', sa.Boolean(), nullable=False),
    sa.Column('provinces', sa.JSON(), nullable=False),
    sa.Column('missing_provinces', sa.JSON(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('input_digest', sa.String(length=64), nullable=False),
    sa.Column('datapackage_sha256', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('as_of')
    )
    op.create_table('receipts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('release_id', sa.String(length=10), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('status_intervals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('arrears_bhxh', sa.BigInteger(), nullable=False),
    sa.Column('arrears_bhyt', sa.BigInteger(), nullable=False),
    sa.Column('arrears_bhtn', sa.BigInteger(), nullable=False),
    sa.Column('arrears_total', sa.BigInteger(), nullable=False),
    sa.Column('months_late', sa.Integer(), nullable=False),
    sa.Column('evasion_decision', sa.String(length=200), nullable=True),
    sa.Column('evasion_decision_date', sa.Date(), nullable=True),
    sa.Column('enforcement_stage', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        batch_op.create_index('ix_intervals_employer_from', ['employer_id', 'valid_from'], unique=False)
        batch_op.create_index('ix_intervals_from', ['valid_from'], unique=False)
        batch_op.create_index('ix_intervals_status_to', ['status', 'valid_to'], unique=False)
        batch_op.create_index('ix_intervals_to', ['valid_to'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        batch_op.drop_index('ix_intervals_to')
        batch_op.drop_index('ix_intervals_status_to')
        batch_op.drop_index('ix_intervals_from')
        batch_op.drop_index('ix_intervals_employer_from')

    op.drop_table('status_intervals')
    op.drop_table('receipts')
    op.drop_table('releases')
    with op.batch_alter_table('employers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employers_unit_code'))
        batch_op.drop_index(batch_op.f('ix_employers_tax_code'))
        batch_op.drop_index(batch_op.f('ix_employers_province_code'))
        batch_op.drop_index(batch_op.f('ix_employers_personal_id_hash'))

    op.drop_table('employers')
