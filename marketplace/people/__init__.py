"""People who receive care and their support plans.

`models` holds the tables; `plans` the support plans' rules and the purchase check; `service`
finds people; `records` creates and changes a person's record (and records each change);
`details` checks a person's contact details and decides what an order's provider sees of
them; `budgets` finds a person's budgets and the pots to allocate from; `forms` is the
support plan form and `details_form` the details form, each shared by the person's pages
and the council's; `cli` re-encrypts how to get in after a key rotation.
"""
