"""shortlists: a person's shortlist of services, a broker's notes on each choice, the person's approval

Revision ID: c1d2e3f4a5b6
Revises: b7c3e5a9d1f4
Create Date: 2026-12-04 03:30:00.000000

A person's shortlist (its version counts changes), the services on it with a note and who
added them, the person's (or their attorney's) approvals naming the version they saw (one in
force per person and service). Its two notification kinds (a shortlist shared, approved)
are in the brokers_more revision's list.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1d2e3f4a5b6'
down_revision = 'b7c3e5a9d1f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shortlists',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shared_version', sa.Integer(), nullable=True),
    sa.Column('shared_by_id', sa.Uuid(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_version', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(shared_at IS NULL) = (shared_version IS NULL)', name=op.f('ck_shortlists_shares_say_which_version')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_shortlists_version_counts_from_one')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_shortlists_person_id_people')),
    sa.ForeignKeyConstraint(['shared_by_id'], ['users.id'], name=op.f('fk_shortlists_shared_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlists')),
    sa.UniqueConstraint('person_id', name=op.f('uq_shortlists_person_id'))
    )
    op.create_table('shortlist_approvals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('shortlist_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('shortlist_version', sa.Integer(), nullable=False),
    sa.Column('approved_by_id', sa.Uuid(), nullable=False),
    sa.Column('consent_id', sa.Uuid(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_shortlist_approvals_approved_by_id_users')),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_shortlist_approvals_consent_id_consents')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_shortlist_approvals_person_id_people')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_shortlist_approvals_service_id_services')),
    sa.ForeignKeyConstraint(['shortlist_id'], ['shortlists.id'], name=op.f('fk_shortlist_approvals_shortlist_id_shortlists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_approvals'))
    )
    with op.batch_alter_table('shortlist_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_approvals_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shortlist_approvals_shortlist_id'), ['shortlist_id'], unique=False)
        batch_op.create_index('uq_shortlist_approvals_one_live_per_service', ['person_id', 'service_id'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))

    op.create_table('shortlist_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('shortlist_id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('note_by_id', sa.Uuid(), nullable=True),
    sa.Column('added_by_id', sa.Uuid(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_shortlist_items_added_by_id_users')),
    sa.ForeignKeyConstraint(['note_by_id'], ['users.id'], name=op.f('fk_shortlist_items_note_by_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_shortlist_items_service_id_services')),
    sa.ForeignKeyConstraint(['shortlist_id'], ['shortlists.id'], name=op.f('fk_shortlist_items_shortlist_id_shortlists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_items')),
    sa.UniqueConstraint('shortlist_id', 'service_id', name=op.f('uq_shortlist_items_shortlist_id_service_id'))
    )
    with op.batch_alter_table('shortlist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_items_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shortlist_items_shortlist_id'), ['shortlist_id'], unique=False)


def downgrade():
    with op.batch_alter_table('shortlist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlist_items_shortlist_id'))
        batch_op.drop_index(batch_op.f('ix_shortlist_items_service_id'))

    op.drop_table('shortlist_items')
    with op.batch_alter_table('shortlist_approvals', schema=None) as batch_op:
        batch_op.drop_index('uq_shortlist_approvals_one_live_per_service', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_shortlist_approvals_shortlist_id'))
        batch_op.drop_index(batch_op.f('ix_shortlist_approvals_person_id'))

    op.drop_table('shortlist_approvals')
    op.drop_table('shortlists')
