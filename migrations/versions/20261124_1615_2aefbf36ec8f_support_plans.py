"""support plans

A person's support plans (the outcomes in their words; draft, approved or superseded, with who
drafted and who approved them) and their items (a taxonomy category and a weekly amount in
pence). Partial unique indexes keep one draft and one approved plan per person at a time.

Revision ID: 2aefbf36ec8f
Revises: b3c1d2e4f5a6
Create Date: 2026-11-24 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '2aefbf36ec8f'
down_revision = 'b3c1d2e4f5a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_plans',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'approved', 'superseded', name='plan_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('drafted_by_id', sa.Uuid(), nullable=False),
    sa.Column('drafted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Uuid(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'draft' AND approved_at IS NULL AND approved_by_id IS NULL) OR (status <> 'draft' AND approved_at IS NOT NULL AND approved_by_id IS NOT NULL)", name=op.f('ck_support_plans_approved_plans_name_their_approver')),
    sa.CheckConstraint("(status = 'superseded') = (superseded_at IS NOT NULL)", name=op.f('ck_support_plans_superseded_plans_say_when')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_support_plans_approved_by_id_users')),
    sa.ForeignKeyConstraint(['drafted_by_id'], ['users.id'], name=op.f('fk_support_plans_drafted_by_id_users')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_support_plans_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plans'))
    )
    with op.batch_alter_table('support_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_plans_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_support_plans_one_approved_per_person', ['person_id'], unique=True, sqlite_where=sa.text("status = 'approved'"), postgresql_where=sa.text("status = 'approved'"))
        batch_op.create_index('uq_support_plans_one_draft_per_person', ['person_id'], unique=True, sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))

    op.create_table('support_plan_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('category_code', sa.String(length=60), nullable=False),
    sa.Column('weekly_amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('weekly_amount_pence >= 0', name=op.f('ck_support_plan_items_weekly_amount_not_negative')),
    sa.ForeignKeyConstraint(['category_code'], ['taxonomy_terms.code'], name=op.f('fk_support_plan_items_category_code_taxonomy_terms')),
    sa.ForeignKeyConstraint(['plan_id'], ['support_plans.id'], name=op.f('fk_support_plan_items_plan_id_support_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plan_items')),
    sa.UniqueConstraint('plan_id', 'category_code', name=op.f('uq_support_plan_items_plan_id_category_code'))
    )
    with op.batch_alter_table('support_plan_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_plan_items_plan_id'), ['plan_id'], unique=False)


def downgrade():
    with op.batch_alter_table('support_plan_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_plan_items_plan_id'))

    op.drop_table('support_plan_items')
    with op.batch_alter_table('support_plans', schema=None) as batch_op:
        batch_op.drop_index('uq_support_plans_one_draft_per_person', sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
        batch_op.drop_index('uq_support_plans_one_approved_per_person', sqlite_where=sa.text("status = 'approved'"), postgresql_where=sa.text("status = 'approved'"))
        batch_op.drop_index(batch_op.f('ix_support_plans_person_id'))

    op.drop_table('support_plans')
