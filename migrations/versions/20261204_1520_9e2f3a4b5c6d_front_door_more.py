"""front door: what the parts of issue 20 needed beyond the first tables

Revision ID: 9e2f3a4b5c6d
Revises: 45aa73ecbe07
Create Date: 2026-12-04 15:20:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '9e2f3a4b5c6d'
down_revision = '45aa73ecbe07'
branch_labels = None
depends_on = None


def upgrade():
    # FIGURES: a review visit done keeps the review date it served.
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('review_due_on')
