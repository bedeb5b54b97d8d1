"""questions: message threads between a person (or their broker) and a provider about a service

Revision ID: d4e5f6a7b8c9
Revises: c1d2e3f4a5b6
Create Date: 2026-12-04 03:31:00.000000

A thread about one service between a person's side and its provider (whose turn it is, the
order it led to), and its messages (who wrote each, and the consent they wrote under when they
wrote for the person). Its two notification kinds (a question asked, answered) are in the
brokers_more revision's list.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'c1d2e3f4a5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('question_threads',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('started_by_id', sa.Uuid(), nullable=False),
    sa.Column('waiting_for', sa.Enum('person', 'provider', name='question_waiting_for', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_question_threads_order_id_orders')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_question_threads_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_question_threads_person_id_people')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_question_threads_service_id_services')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_question_threads_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_threads'))
    )
    with op.batch_alter_table('question_threads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_threads_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_question_threads_organisation_waiting', ['organisation_id', 'waiting_for'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_threads_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_threads_service_id'), ['service_id'], unique=False)

    op.create_table('question_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('side', sa.Enum('person', 'provider', name='question_side', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('consent_id', sa.Uuid(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("side = 'person' OR consent_id IS NULL", name=op.f('ck_question_messages_only_the_person_side_writes_for_them')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_question_messages_author_id_users')),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_question_messages_consent_id_consents')),
    sa.ForeignKeyConstraint(['thread_id'], ['question_threads.id'], name=op.f('fk_question_messages_thread_id_question_threads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_messages'))
    )
    with op.batch_alter_table('question_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_messages_thread_id'), ['thread_id'], unique=False)


def downgrade():
    with op.batch_alter_table('question_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_messages_thread_id'))

    op.drop_table('question_messages')
    with op.batch_alter_table('question_threads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_threads_service_id'))
        batch_op.drop_index(batch_op.f('ix_question_threads_person_id'))
        batch_op.drop_index('ix_question_threads_organisation_waiting')
        batch_op.drop_index(batch_op.f('ix_question_threads_order_id'))

    op.drop_table('question_threads')
