"""ongoing care: what the parts of issue 18 needed beyond the first tables

Revision ID: 5ce11713c542
Revises: 4bd00602b431
Create Date: 2026-12-04 07:11:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '5ce11713c542'
down_revision = '4bd00602b431'
branch_labels = None
depends_on = None


def upgrade():
    # Each part adds its operations here with a comment naming the part.
    # VARIATIONS: a pause's planned end.
    with op.batch_alter_table("package_variations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resumes_on", sa.Date(), nullable=True))


def downgrade():
    # VARIATIONS
    with op.batch_alter_table("package_variations", schema=None) as batch_op:
        batch_op.drop_column("resumes_on")
