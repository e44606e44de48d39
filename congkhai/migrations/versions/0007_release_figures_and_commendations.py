"""what a release's pages need, computed when it is published: its figures, its honour roll as intervals,
and the open intervals indexed in each list order

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN = sa.text("valid_to IS NULL")
_OPEN_INDEXES = {
    'ix_open_arrears': ['status', 'arrears_total', 'id'],
    'ix_open_months': ['status', 'months_late', 'arrears_total', 'id'],
    'ix_open_since': ['status', 'valid_from', 'arrears_total', 'id'],
}


def upgrade() -> None:
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures', sa.JSON(), nullable=True))
    op.create_table('commendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_commendations_employer_from', 'commendations', ['employer_id', 'valid_from'], unique=False)
    op.create_index('ix_commendations_to', 'commendations', ['valid_to'], unique=False)
    op.create_index('ix_employers_name_key', 'employers', ['name', 'key'], unique=False)
    for name, columns in _OPEN_INDEXES.items():
        op.create_index(name, 'status_intervals', columns, unique=False, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    for name in _OPEN_INDEXES:
        op.drop_index(name, table_name='status_intervals')
    op.drop_index('ix_employers_name_key', table_name='employers')
    op.drop_index('ix_commendations_to', table_name='commendations')
    op.drop_index('ix_commendations_employer_from', table_name='commendations')
    op.drop_table('commendations')
    # Not in batch mode: SQLite (3.35 and later) drops a column in place, where a batch would copy
    # `releases` and drop the original under the foreign keys that name it.
    op.drop_column('releases', 'figures')
