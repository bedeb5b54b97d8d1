"""The files of a payment run (issue 19, PAYRUNS; their layouts are docs/payment-runs.md).

- The payment file: one row per provider, what the council's finance system (or bank) pays.
  We hold no bank details, so those columns are there, empty, for the finance system to fill
  from its own supplier record (matched on `supplier_id`): nothing here invents them.
- The remittance advice: one row per remittance line (one invoice's share from one payer),
  in the shape councils load into their finance systems: supplier, invoice, cost centre and
  funder, amount, service period, order and person reference. The council's file names the
  person by the council's case reference; a provider's own copy leaves that column out (the
  provider knows the order, not the council's case records).

Rules only: rows out; `marketplace.csv_export` writes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from marketplace.csv_export import csv_text, pence_cell
from marketplace.finance.models import PaymentRun, Remittance, RemittanceLine
from marketplace.formatting import LONDON

PAYMENT_FILE_HEADER: tuple[str, ...] = (
    "run_reference",
    "payment_date",
    "remittance_reference",
    "supplier_id",
    "supplier_name",
    "companies_house_number",
    "charity_number",
    "bank_account_name",
    "bank_sort_code",
    "bank_account_number",
    "invoice_count",
    "line_count",
    "amount",
)

ADVICE_HEADER: tuple[str, ...] = (
    "run_reference",
    "payment_date",
    "remittance_reference",
    "supplier_id",
    "supplier_name",
    "invoice_reference",
    "order_reference",
    "person_reference",
    "period_start",
    "period_end",
    "funder",
    "cost_centre",
    "amount",
    "status",
)

# The provider's copy: the council's case reference left out.
PROVIDER_ADVICE_HEADER: tuple[str, ...] = tuple(
    column for column in ADVICE_HEADER if column != "person_reference"
)


def payment_date(run: PaymentRun) -> str:
    """The day the run was made, in London (the file's value date)."""
    return run.made_at.astimezone(LONDON).date().isoformat()


def line_status(line: RemittanceLine) -> str:
    """ "paid", or "reversed" for a line of a cancelled run."""
    return "reversed" if line.reversal_transfer_id is not None else "paid"


def payment_file_rows(run: PaymentRun) -> Iterator[list[object]]:
    """One row per provider (remittance), in remittance order."""
    for remittance in run.remittances:
        organisation = remittance.organisation
        yield [
            run.reference,
            payment_date(run),
            remittance.reference,
            str(organisation.id),
            organisation.name,
            organisation.companies_house_number or "",
            organisation.charity_number or "",
            "",  # bank details: held by the finance system's supplier record, not by us
            "",
            "",
            len({line.invoice_id for line in remittance.lines}),
            len(remittance.lines),
            pence_cell(remittance.total_pence),
        ]


def payment_file(run: PaymentRun) -> str:
    return csv_text(PAYMENT_FILE_HEADER, payment_file_rows(run))


def _advice_row(run: PaymentRun, remittance: Remittance, line: RemittanceLine) -> list[object]:
    invoice = line.invoice
    order = invoice.order
    person = order.person
    return [
        run.reference,
        payment_date(run),
        remittance.reference,
        str(remittance.organisation_id),
        remittance.organisation.name,
        invoice.reference,
        order.reference,
        (person.case_reference or "") if person is not None else "",
        line.period_start,
        line.period_end,
        line.funder_name,
        line.cost_centre,
        pence_cell(line.amount_pence),
        line_status(line),
    ]


def advice_rows(
    run: PaymentRun, remittances: Sequence[Remittance] | None = None
) -> list[list[object]]:
    """One row per line of the run's remittances (or of those given), for the council."""
    return [
        _advice_row(run, remittance, line)
        for remittance in (run.remittances if remittances is None else remittances)
        for line in remittance.lines
    ]


def advice_file(run: PaymentRun) -> str:
    return csv_text(ADVICE_HEADER, advice_rows(run))


def provider_advice_rows(remittance: Remittance) -> list[list[object]]:
    """The provider's copy of its remittance's lines: the council's rows less the person's
    case reference."""
    skip = ADVICE_HEADER.index("person_reference")
    return [row[:skip] + row[skip + 1 :] for row in advice_rows(remittance.run, [remittance])]


def provider_advice_file(remittance: Remittance) -> str:
    return csv_text(PROVIDER_ADVICE_HEADER, provider_advice_rows(remittance))
