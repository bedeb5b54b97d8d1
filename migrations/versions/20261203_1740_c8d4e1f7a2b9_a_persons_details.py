"""a person's details: address, communication, how to get in, and the record of changes

Revision ID: c8d4e1f7a2b9
Revises: 452a9ec36c1e
Create Date: 2026-12-03 17:40:00

The key safe code and access notes are stored encrypted (Fernet tokens, as Text): there is
nothing to carry over, since no one could enter them before this revision.
"""
from alembic import op
import sqlalchemy as sa


revision = 'c8d4e1f7a2b9'
down_revision = '452a9ec36c1e'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_line_1', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('address_line_2', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('town', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('county', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('communication_needs', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('preferred_contact', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('key_safe_code', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('access_notes', sa.Text(), nullable=True))
        # Named as the models name their enums' CHECK constraints, on SQLite and PostgreSQL alike.
        batch_op.create_check_constraint(
            'preferred_contact', "preferred_contact IN ('phone', 'text', 'email', 'letter')"
        )
    op.create_table('person_details_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('changed_by_id', sa.Uuid(), nullable=True),
    sa.Column('token_id', sa.Uuid(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_person_details_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_details_changes_person_id_people')),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_person_details_changes_token_id_api_tokens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_details_changes'))
    )
    with op.batch_alter_table('person_details_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_details_changes_person_id'), ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('person_details_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_details_changes_person_id'))
    op.drop_table('person_details_changes')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_people_preferred_contact'), type_='check')
        batch_op.drop_column('access_notes')
        batch_op.drop_column('key_safe_code')
        batch_op.drop_column('preferred_contact')
        batch_op.drop_column('communication_needs')
        batch_op.drop_column('county')
        batch_op.drop_column('town')
        batch_op.drop_column('address_line_2')
        batch_op.drop_column('address_line_1')
