"""Open Referral UK: how the directory's records are written in its shape (`oruk`), the
phrases and stable ids it uses (`phrases`, `identifiers`) and its JSON (`encoding`). The API's
feed (marketplace/api) and the directory's import and export (providers/) both use them, so
they live here, below both, not in the HTTP package."""
