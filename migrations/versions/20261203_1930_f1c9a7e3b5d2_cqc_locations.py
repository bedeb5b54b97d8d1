"""the CQC's care directory: registered locations and their ratings

Revision ID: f1c9a7e3b5d2
Revises: b6e2f8a4c1d7
Create Date: 2026-12-03 19:30:00.000000

Each location in the CQC's published care directory file, so a listing's rating is shown from
the regulator's word (matched by CQC location ID) and never from what its provider typed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1c9a7e3b5d2'
down_revision = 'b6e2f8a4c1d7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cqc_locations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('provider_id', sa.String(length=20), nullable=False),
    sa.Column('provider_name', sa.String(length=300), nullable=False),
    sa.Column('care_home', sa.Boolean(), nullable=False),
    sa.Column('street_address', sa.String(length=300), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('registered_manager', sa.String(length=200), nullable=True),
    sa.Column('web_address', sa.String(length=300), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('local_authority', sa.String(length=100), nullable=True),
    sa.Column('service_types', sa.Text(), nullable=True),
    sa.Column('specialisms', sa.Text(), nullable=True),
    sa.Column('rating', sa.Enum('outstanding', 'good', 'requires_improvement', 'inadequate', 'not_yet_rated', name='cqc_location_rating', native_enum=False, length=20, create_constraint=True), nullable=True),
    sa.Column('rating_published_on', sa.Date(), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deregistered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cqc_locations')),
    sa.UniqueConstraint('location_id', name=op.f('uq_cqc_locations_location_id'))
    )
    with op.batch_alter_table('cqc_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cqc_locations_provider_id'), ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cqc_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cqc_locations_provider_id'))
    op.drop_table('cqc_locations')
