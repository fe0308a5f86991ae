"""Birthdays (day and month) and the birthday bonus

Revision ID: 27c1b2c3d4e9
Revises: 27b1b2c3d4e8
Create Date: 2026-12-07 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27c1b2c3d4e9'
down_revision = '27b1b2c3d4e8'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable columns, added in place (no batch copy of the cards table on SQLite).
    op.add_column('customers', sa.Column('birth_day', sa.Integer(), nullable=True))
    op.add_column('customers', sa.Column('birth_month', sa.Integer(), nullable=True))
    op.add_column('loyalty_cards', sa.Column('birthday_granted_at', sa.DateTime(timezone=True),
                                             nullable=True))
    with op.batch_alter_table('loyalty_programs') as batch_op:
        batch_op.add_column(sa.Column('birthday_bonus_points', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('birthday_bonus_stamps', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('birthday_days_ahead', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('loyalty_programs') as batch_op:
        batch_op.drop_column('birthday_days_ahead')
        batch_op.drop_column('birthday_bonus_stamps')
        batch_op.drop_column('birthday_bonus_points')
    with op.batch_alter_table('loyalty_cards') as batch_op:
        batch_op.drop_column('birthday_granted_at')
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('birth_month')
        batch_op.drop_column('birth_day')
