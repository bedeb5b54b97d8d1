"""acting tokens confirmed by their user, and recorded on order events

Revision ID: e7b2c4d9a1f3
Revises: 9c4e7a2b1d60
Create Date: 2026-12-03 17:00:00.000000

A token that acts for a user now works only once that user has confirmed it. Tokens made
before this revision were made without asking the user, so they are left unconfirmed: each
user confirms (or refuses) theirs from their account page.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b2c4d9a1f3'
down_revision = '9c4e7a2b1d60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_order_events_token_id_api_tokens'), 'api_tokens', ['token_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_order_events_token_id_api_tokens'), type_='foreignkey'
        )
        batch_op.drop_column('token_id')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('confirmed_at')
