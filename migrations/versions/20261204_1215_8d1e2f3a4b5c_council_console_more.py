"""council console: what the parts of issue 19 needed beyond the first tables

Revision ID: 8d1e2f3a4b5c
Revises: 7044305cca5e
Create Date: 2026-12-04 12:15:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '8d1e2f3a4b5c'
down_revision = '7044305cca5e'
branch_labels = None
depends_on = None


def upgrade():
    # Each part adds its operations here with a comment naming the part.
    # FINEXPORT: the council's default cost centre for a funder's money (a pot line's own
    # cost centre, when it has one, comes first).
    with op.batch_alter_table('funders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_centre', sa.String(length=40), server_default='', nullable=False))
    # FINEXPORT: an export made by the schedule (`flask finance export`) has no officer.
    with op.batch_alter_table('finance_exports', schema=None) as batch_op:
        batch_op.alter_column('made_by_id', existing_type=sa.Uuid(), nullable=True)
    pass


def downgrade():
    # Each part adds its operations here (in reverse order) with a comment naming the part.
    # FINEXPORT (lossy: the schedule's exports have no officer to name, so they go)
    op.execute("DELETE FROM finance_exports WHERE made_by_id IS NULL")
    with op.batch_alter_table('finance_exports', schema=None) as batch_op:
        batch_op.alter_column('made_by_id', existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table('funders', schema=None) as batch_op:
        batch_op.drop_column('cost_centre')
    pass
