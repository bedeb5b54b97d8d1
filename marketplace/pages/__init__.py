"""Page builders more than one audience uses (a person's budget, statement, plan and details
pages, which the person and the council's officers both read). They sit below the audiences'
packages, which stay independent of one another (the layers contract in pyproject.toml)."""
