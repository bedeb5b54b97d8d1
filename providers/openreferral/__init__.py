"""Open Referral UK, and the directory in and out as files.

The mapping: how the directory's records are written in ORUK's shape (`oruk`), the phrases and
stable ids it uses (`phrases`, `identifiers`) and its JSON (`encoding`). The API's feed
(marketplace/api) uses it too, so it lives here, below the feed, not in the HTTP package.

The import and export (`flask directory import` and `export`, in `cli`): `importer` reads a
file (ORUK JSON through `oruk_records`, or our CSV template through `csv_records`) into
`records.ServiceRecord`s and `import_apply` applies each one; `exporter` writes the directory
out in either format (`csv_records` writes the template's rows too). Like every rules module
they flush and never commit; the command commits once at its end.
"""
