"""Validate JSON against the Open Referral UK 3.0 schemas in `oruk_spec/`, offline.

The schemas are JSON Schema draft 2020-12 with absolute `$ref`s to
https://openreferraluk.org/specifications/3.0/schema/...; a `referencing` registry maps that
prefix to the local copy and refuses anything else, so a test can never reach the network.
Formats are checked too (uuid, email, uri, date-time), with our own checks for the two that
jsonschema only checks when optional packages are installed.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

SPEC = Path(__file__).parent / "oruk_spec"
SCHEMA_BASE = "https://openreferraluk.org/specifications/3.0/schema/"

FORMATS = FormatChecker()
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


@FORMATS.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(_SCHEME.match(parts.scheme)) and " " not in value


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    # RFC 3339: a full date, "T", a time and an offset (Z or +hh:mm).
    if not re.match(
        r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", value
    ):
        return False
    datetime.fromisoformat(value.replace("z", "Z"))
    return True


def _retrieve(uri: str) -> Resource[Any]:
    if not uri.startswith(SCHEMA_BASE):
        raise NoSuchResource(ref=uri)
    path = SPEC / "schema" / uri.removeprefix(SCHEMA_BASE)
    if not path.is_file():
        raise NoSuchResource(ref=uri)
    return Resource.from_contents(
        json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012
    )


REGISTRY: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]


@functools.cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for `schema/<schema_name>.json`, references resolved locally."""
    schema = {"$ref": f"{SCHEMA_BASE}{schema_name}.json"}
    return Draft202012Validator(schema, registry=REGISTRY, format_checker=FORMATS)


def schema_errors(instance: Any, schema_name: str) -> list[str]:
    """Every way `instance` breaks the schema, as "path: message" lines (empty when valid)."""
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator(schema_name).iter_errors(instance)
    ]


def null_paths(value: Any, path: str = "") -> list[str]:
    """The paths of every null in `value`: ORUK omits optional fields rather than nulling them."""
    if value is None:
        return [path or "(root)"]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in null_paths(item, f"{path}/{key}")]
    if isinstance(value, list):
        return [
            p for number, item in enumerate(value) for p in null_paths(item, f"{path}/{number}")
        ]
    return []
