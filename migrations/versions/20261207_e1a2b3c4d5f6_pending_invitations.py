"""Pending invitations: a membership counts once its person accepts it; a set-password link
names the invitation it came with

Revision ID: e1a2b3c4d5f6
Revises: c5e8a1b2d3f4
Create Date: 2026-12-07 05:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1a2b3c4d5f6'
down_revision = 'c5e8a1b2d3f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
    # Every membership made before invitations waited for an answer was in force already.
    op.execute("UPDATE memberships SET accepted_at = created_at")
    with op.batch_alter_table('password_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('membership_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_password_tokens_membership_id'), ['membership_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_password_tokens_membership_id_memberships'),
                                    'memberships', ['membership_id'], ['id'])


def downgrade():
    with op.batch_alter_table('password_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_password_tokens_membership_id_memberships'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_password_tokens_membership_id'))
        batch_op.drop_column('membership_id')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('accepted_at')
