"""people: when the retention job anonymised a person

Revision ID: a9d5c3e7f1b4
Revises: f1c9a7e3b5d2
Create Date: 2026-12-03 19:50:00.000000

A person whose budgets were all closed longer ago than the council's retention period has
their names, contact details and access notes removed, their money trail kept; this column
says when (and that it was done, so a second run leaves them alone).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9d5c3e7f1b4'
down_revision = 'f1c9a7e3b5d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
