"""Buying care: basket, checkout against the budget, the order's life, deliveries, invoices
and settlement. Rules modules flush and never commit; read docs/orders.md."""
