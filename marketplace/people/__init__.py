"""People who receive care and their support plans.

`models` holds the tables; `plans` the support plans' rules and the purchase check; `service`
finds people; `budgets` finds a person's budgets and the pots to allocate from; `forms` is the
support plan form shared by the person's pages and the council's.
"""
