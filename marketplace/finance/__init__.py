"""Paying providers and telling the council's finance system (issue 19): payment runs that
turn settled invoices into remittances, and incremental exports of commitments, actuals and
payments. Rules only: no Flask here; the council's pages and commands call these modules."""
