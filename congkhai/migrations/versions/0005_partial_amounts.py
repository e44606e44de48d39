"""arrears as the provinces report them: a fund not split out is unknown, the fourth fund and interest apart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_FUNDS = ('arrears_bhxh', 'arrears_bhyt', 'arrears_bhtn')


def upgrade() -> None:
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        for name in _FUNDS:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column('arrears_bhtnld', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('interest', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        batch_op.drop_column('interest')
        batch_op.drop_column('arrears_bhtnld')
    for name in _FUNDS:
        op.execute(f"UPDATE status_intervals SET {name} = 0 WHERE {name} IS NULL")
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        for name in _FUNDS:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), nullable=False)
