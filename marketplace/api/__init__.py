"""The JSON API: the Open Referral UK 3.0 directory feed at /api/v1, and its OpenAPI document.

`views` is the blueprint (thin); `params` reads query strings, `queries` reads the database,
`oruk` turns rows into ORUK objects and `encoding` writes them as JSON. Nothing is imported here
so that the exporter can use `oruk` without building the blueprint.
"""
