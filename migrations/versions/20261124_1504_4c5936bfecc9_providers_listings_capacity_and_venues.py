"""providers, listings, capacity and venues

Revision ID: 4c5936bfecc9
Revises: f2617288332a
Create Date: 2026-11-24 15:04:56.866719

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4c5936bfecc9'
down_revision = 'f2617288332a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('locations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('town', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('accessibility', sa.JSON(), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_locations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('source_id', name=op.f('uq_locations_source_id'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('organisation_localities',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('locality_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['locality_id'], ['localities.id'], name=op.f('fk_organisation_localities_locality_id_localities')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_localities_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'locality_id', name=op.f('pk_organisation_localities'))
    )
    op.create_table('organisation_status_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.Enum('pending', 'approved', 'rejected', 'suspended', name='from_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('pending', 'approved', 'rejected', 'suspended', name='to_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Uuid(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_organisation_status_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_status_changes_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_status_changes'))
    )
    with op.batch_alter_table('organisation_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_status_changes_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('service_at_locations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_service_at_locations_location_id_locations')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_service_at_locations_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_at_locations')),
    sa.UniqueConstraint('service_id', 'location_id', name=op.f('uq_service_at_locations_service_id_location_id'))
    )
    with op.batch_alter_table('service_at_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_at_locations_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_at_locations_service_id'), ['service_id'], unique=False)

    op.create_table('staff_invitations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_staff_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_staff_invitations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_invitations_token_hash'))
    )
    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitations_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('source_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_organisations_source_id'), ['source_id'])

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minimum_order', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('opening_times', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('url', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('cqc_location_id', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('cqc_rating', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('capacity_status', sa.String(length=20), nullable=False, server_default='accepting'))
        batch_op.add_column(sa.Column('capacity_free', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('earliest_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('capacity_confirmed_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
        batch_op.add_column(sa.Column('source_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_services_source_id'), ['source_id'])
        # Named as the models name their enums' CHECK constraints, on SQLite and PostgreSQL alike.
        batch_op.create_check_constraint(
            'cqc_rating',
            "cqc_rating IN ('outstanding', 'good', 'requires_improvement', 'inadequate', 'not_yet_rated')",
        )
        batch_op.create_check_constraint(
            'capacity_status', "capacity_status IN ('accepting', 'waiting_list', 'full')"
        )
        batch_op.create_check_constraint('minimum_order_positive', 'minimum_order >= 1')
        batch_op.create_check_constraint(
            'capacity_free_not_negative', 'capacity_free IS NULL OR capacity_free >= 0'
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_organisation_owner', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_organisation_owner')

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_services_capacity_free_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_services_minimum_order_positive'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_services_capacity_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_services_cqc_rating'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_services_source_id'), type_='unique')
        batch_op.drop_column('source_id')
        batch_op.drop_column('capacity_confirmed_at')
        batch_op.drop_column('earliest_start')
        batch_op.drop_column('capacity_free')
        batch_op.drop_column('capacity_status')
        batch_op.drop_column('cqc_rating')
        batch_op.drop_column('cqc_location_id')
        batch_op.drop_column('url')
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
        batch_op.drop_column('opening_times')
        batch_op.drop_column('minimum_order')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_organisations_source_id'), type_='unique')
        batch_op.drop_column('source_id')
        batch_op.drop_column('status_reason')

    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitations_organisation_id'))

    op.drop_table('staff_invitations')
    with op.batch_alter_table('service_at_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_at_locations_service_id'))
        batch_op.drop_index(batch_op.f('ix_service_at_locations_location_id'))

    op.drop_table('service_at_locations')
    with op.batch_alter_table('organisation_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_status_changes_organisation_id'))

    op.drop_table('organisation_status_changes')
    op.drop_table('organisation_localities')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_organisation_id'))

    op.drop_table('locations')
