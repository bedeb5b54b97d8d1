"""shortlists: a person's shortlist of services, a broker's notes on each choice, the person's approval

Revision ID: c1d2e3f4a5b6
Revises: b7c3e5a9d1f4
Create Date: 2026-12-04 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1d2e3f4a5b6'
down_revision = 'b7c3e5a9d1f4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
