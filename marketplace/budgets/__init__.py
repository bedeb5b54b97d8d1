"""Personal budgets: funders and their pots, budgets made of funding streams, instalments,
commitments, revisions and the close of a period. Every pound moves through the ledger.

The rules live in `funders`, `allocations`, `spending` and `closing`; `figures` reads them
back; `verify` checks them. They flush and never commit: the caller commits once.
"""
