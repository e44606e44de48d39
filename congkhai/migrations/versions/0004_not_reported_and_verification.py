"""employers carried over from their last report, and what each release's verification let through

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_reported_since', sa.Date(), nullable=True))
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_column('verification')
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        batch_op.drop_column('not_reported_since')
