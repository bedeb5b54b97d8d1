"""The council's console (issue 19): work queues, reconciliation, period end in bulk, market
insight, provider performance and the figures a council reports. Rules only: they read the
ledger and the records and know nothing of Flask; the council's pages call them."""
