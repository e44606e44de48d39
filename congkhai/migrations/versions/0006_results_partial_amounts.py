"""daily results as the reports give them: fund sums unknown when no employer's report splits them, BHTNLĐ-BNN,
interest and the employers without a split by fund

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_FUNDS = ('arrears_bhxh', 'arrears_bhyt', 'arrears_bhtn')


def upgrade() -> None:
    with op.batch_alter_table('daily_results', schema=None) as batch_op:
        for name in _FUNDS:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column('arrears_bhtnld', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('interest', sa.BigInteger(), nullable=True))
        # Rows written before: every report split its arrears by fund.
        batch_op.add_column(sa.Column('employers_without_fund_split', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('daily_results', schema=None) as batch_op:
        batch_op.alter_column('employers_without_fund_split', existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('daily_results', schema=None) as batch_op:
        batch_op.drop_column('employers_without_fund_split')
        batch_op.drop_column('interest')
        batch_op.drop_column('arrears_bhtnld')
    for name in _FUNDS:
        op.execute(f"UPDATE daily_results SET {name} = 0 WHERE {name} IS NULL")
    with op.batch_alter_table('daily_results', schema=None) as batch_op:
        for name in _FUNDS:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), nullable=False)
