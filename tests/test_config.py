"""Configuration from the environment, with safe defaults and a refusal to run unsafely."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace import create_app
from marketplace.config import ConfigurationError, instance_path_from_env, load_config

# A Fernet key (production needs one: tests/test_encryption.py shows it refuses to start
# without).
DATA_KEY = "l3VbHn0gqkZ3hc4FhS3U4nKXtgE4pXyH8BhX1C2pV0I="


@pytest.fixture(autouse=True)
def _data_encryption_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", DATA_KEY)


def test_production_refuses_to_start_without_a_real_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_config(tmp_path)
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_config(tmp_path)


# A key as `secrets.token_urlsafe(32)` makes them.
GOOD_KEY = "Q3v9xK2mP7wR4tY8zB1nC6dF0gH5jL2sA9eU3iO7"


@pytest.mark.parametrize(
    "key",
    [
        "k" * 40,  # issue 12, item 10: production started with one repeated character
        "ab" * 20,
        "0123456780123456780123456780123456",  # 9 different characters
        "Q3v9xK2mP7wR4tY8",  # varied but short
    ],
)
def test_production_refuses_a_short_or_repetitive_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="different ones"):
        load_config(tmp_path)
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    assert load_config(tmp_path)["SECRET_KEY"] == GOOD_KEY


def test_production_refuses_to_start_without_a_mail_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, item 10: without one, password-reset links went to the outbox admins read."""
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.delenv("MAIL_SERVER", raising=False)
    with pytest.raises(ConfigurationError, match="MAIL_SERVER"):
        load_config(tmp_path)
    monkeypatch.setenv("MAIL_SERVER", "  ")
    with pytest.raises(ConfigurationError, match="MAIL_SERVER"):
        load_config(tmp_path)
    with pytest.raises(ConfigurationError, match="MAIL_SERVER"):
        load_config(tmp_path, {"MAIL_SERVER": ""})
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    assert load_config(tmp_path)["MAIL_SERVER"] == "smtp.example.org"
    # Development and tests keep the outbox.
    monkeypatch.setenv("MARKETPLACE_ENV", "development")
    assert load_config(tmp_path, {"MAIL_SERVER": ""})["MAIL_SERVER"] == ""


def test_production_makes_cookies_secure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["PREFERRED_URL_SCHEME"] == "https"
    costs = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"])
    assert costs == (3, 65536, 4), "RFC 9106's low-memory profile, argon2-cffi's default"


def test_development_keeps_a_generated_key_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) == 64
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load_config(tmp_path)["SECRET_KEY"] == first


def test_all_local_state_lives_under_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    assert instance_path_from_env() == tmp_path / "elsewhere"
    app = create_app()
    with app.app_context():
        from marketplace.extensions import db

        db.engine.dispose()
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{tmp_path / 'elsewhere'}/marketplace.db"
    )
    assert app.config["MAIL_OUTBOX_PATH"].startswith(str(tmp_path / "elsewhere"))
    assert (tmp_path / "elsewhere" / "secret_key").exists()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_url_selects_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, used: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    assert load_config(tmp_path, {"SECRET_KEY": "x"})["SQLALCHEMY_DATABASE_URI"] == used


def test_unknown_environment_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "staging-ish")
    with pytest.raises(ConfigurationError, match="MARKETPLACE_ENV"):
        load_config(tmp_path)
