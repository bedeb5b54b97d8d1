"""directory lists: indexes for paging organisations and services by (name, id) (issue 22)

Revision ID: b5d7e9f1a3c2
Revises: 9e2f3a4b5c6d
Create Date: 2026-12-05 01:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5d7e9f1a3c2'
down_revision = '9e2f3a4b5c6d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_status_name_id', ['status', 'name', 'id'], unique=False)
        batch_op.create_index('ix_organisations_name_id', ['name', 'id'], unique=False)
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.create_index('ix_services_name_id', ['name', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_index('ix_services_name_id')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_name_id')
        batch_op.drop_index('ix_organisations_status_name_id')
