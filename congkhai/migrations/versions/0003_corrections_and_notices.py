"""corrections and notice periods

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:44:26.071377
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('applies_from', sa.Date(), nullable=False),
    sa.Column('applies_to', sa.Date(), nullable=True),
    sa.Column('until_next_release', sa.Boolean(), nullable=False),
    sa.Column('published_state', sa.JSON(), nullable=True),
    sa.Column('corrected_state', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('recorded_in_release', sa.String(length=10), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], ),
    sa.ForeignKeyConstraint(['recorded_in_release'], ['releases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_recorded_in_release'), ['recorded_in_release'], unique=False)

    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('listing_on', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('status_intervals', schema=None) as batch_op:
        batch_op.drop_column('listing_on')
        batch_op.drop_column('notice_from')

    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_recorded_in_release'))
        batch_op.drop_index(batch_op.f('ix_corrections_employer_id'))

    op.drop_table('corrections')
