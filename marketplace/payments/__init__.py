"""Card payments through Stripe (issue 16), below the audiences and above orders.

Card money reaches the ledger only on Stripe's word (a signed webhook, or our own retrieval of
the PaymentIntent), never on the browser's return; see docs/payments.md. The rules here hold no
Flask: the edge builds the Stripe gateway from the app's configuration and passes it in.
"""
