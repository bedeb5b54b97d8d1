"""notifications: the order a notification is about

Revision ID: d2e6a8c4f0b7
Revises: f3a7c1e9d5b2
Create Date: 2026-12-04 00:15:00.000000

The orders' rules record what happened (this order) and the pages build the link to it for
each reader (a citizen's, a provider's or the council's order page), so no rule writes a page
path. Rows written before keep their stored link, which is still shown.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2e6a8c4f0b7'
down_revision = 'f3a7c1e9d5b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_notifications_order_id_orders'), 'orders', ['order_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_order_id_orders'), type_='foreignkey')
        batch_op.drop_column('order_id')
