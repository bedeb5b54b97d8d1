"""council console: what the parts of issue 19 needed beyond the first tables

Revision ID: 8d1e2f3a4b5c
Revises: 7044305cca5e
Create Date: 2026-12-04 12:15:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '8d1e2f3a4b5c'
down_revision = '7044305cca5e'
branch_labels = None
depends_on = None


def upgrade():
    # Each part adds its operations here with a comment naming the part.
    # FINEXPORT: the council's default cost centre for a funder's money (a pot line's own
    # cost centre, when it has one, comes first).
    with op.batch_alter_table('funders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_centre', sa.String(length=40), server_default='', nullable=False))
    # FINEXPORT: an export made by the schedule (`flask finance export`) has no officer.
    with op.batch_alter_table('finance_exports', schema=None) as batch_op:
        batch_op.alter_column('made_by_id', existing_type=sa.Uuid(), nullable=True)
    # PAYRUNS: the preview a run was confirmed from, when its file was sent, and each line's
    # own transfer and, once cancelled, its reversal.
    with op.batch_alter_table('payment_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sent_by_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_payment_runs_preview_sha256'), ['preview_sha256'])
        batch_op.create_foreign_key(batch_op.f('fk_payment_runs_sent_by_id_users'), 'users', ['sent_by_id'], ['id'])
    with op.batch_alter_table('remittance_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reversal_transfer_id', sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_remittance_lines_transfer_id'), ['transfer_id'])
        batch_op.create_foreign_key(batch_op.f('fk_remittance_lines_reversal_transfer_id_ledger_transfers'), 'ledger_transfers', ['reversal_transfer_id'], ['id'])
    pass


def downgrade():
    # Each part adds its operations here (in reverse order) with a comment naming the part.
    # PAYRUNS
    with op.batch_alter_table('remittance_lines', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_remittance_lines_reversal_transfer_id_ledger_transfers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_remittance_lines_transfer_id'), type_='unique')
        batch_op.drop_column('reversal_transfer_id')
    with op.batch_alter_table('payment_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_runs_sent_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_payment_runs_preview_sha256'), type_='unique')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('sent_by_id')
        batch_op.drop_column('preview_sha256')
    # FINEXPORT (lossy: the schedule's exports have no officer to name, so they go)
    op.execute("DELETE FROM finance_exports WHERE made_by_id IS NULL")
    with op.batch_alter_table('finance_exports', schema=None) as batch_op:
        batch_op.alter_column('made_by_id', existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table('funders', schema=None) as batch_op:
        batch_op.drop_column('cost_centre')
    pass
