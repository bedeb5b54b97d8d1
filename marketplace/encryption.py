"""Encryption at rest for the few values that let a stranger into someone's home (a key safe
code, notes on how to get in): Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography`
package) through `MultiFernet`, so keys can be rotated.

The keys come from configuration (`DATA_ENCRYPTION_KEYS`, comma-separated, the first used to
encrypt, every one tried to decrypt). `EncryptedText` is a column type: the database holds
only the Fernet token, and the model holds the plain text.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_EXTENSION = "data_cipher"
KEY_FILE = "data_encryption_key"


class EncryptionKeyError(ValueError):
    """A configured key is not a Fernet key, or none was given."""


def keys_from_setting(setting: str) -> list[str]:
    """The keys in a comma-separated setting, each checked to be a Fernet key (32 bytes in
    URL-safe base64, as `Fernet.generate_key()` makes). Raises EncryptionKeyError."""
    keys = [key.strip() for key in setting.split(",") if key.strip()]
    if not keys:
        raise EncryptionKeyError("no data encryption key given")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as error:
            raise EncryptionKeyError(
                f"data encryption key {position} is not a Fernet key (32 random bytes in "
                "URL-safe base64)"
            ) from error
    return keys


def development_keys(instance_path: Path) -> list[str]:
    """A random key kept in the instance folder (made on first use), for development and
    tests: data encrypted by one run can be read by the next."""
    key_file = instance_path / KEY_FILE
    if key_file.exists():
        return keys_from_setting(key_file.read_text())
    key = Fernet.generate_key().decode("ascii")
    key_file.write_text(key)
    key_file.chmod(0o600)
    return [key]


def _cipher() -> MultiFernet:
    """The app's cipher, built once from its configured keys."""
    cipher = current_app.extensions.get(_EXTENSION)
    if cipher is None:
        keys = current_app.config["DATA_ENCRYPTION_KEYS"]
        cipher = MultiFernet([Fernet(key) for key in keys])
        current_app.extensions[_EXTENSION] = cipher
    return cipher


def encrypt(plain: str) -> str:
    """The Fernet token of `plain`, with the first configured key."""
    return _cipher().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The plain text of a token made with any configured key. Raises EncryptionKeyError if
    none of them made it (a key removed from the setting too soon)."""
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise EncryptionKeyError(
            "an encrypted value cannot be read with any configured DATA_ENCRYPTION_KEYS"
        ) from error


class EncryptedText(TypeDecorator[str]):
    """Text held encrypted in the database: written as a Fernet token, read back as text.

    Each write encrypts afresh (Fernet adds a random IV and a timestamp), so equal values do
    not look equal in the table, and such a column cannot be searched or compared in SQL.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)
