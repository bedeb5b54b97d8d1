"""Password hashing (argon2) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
# zxcvbn scores 0 (guessable in moments) to 4; 3 resists an offline attack on a slow hash.
MIN_STRENGTH = 3

_hasher = PasswordHasher()
# Verifying against this costs the same as a real check, so an unknown email answers as slowly
# as a wrong password and timing tells nothing. Made by `configure_hashing` (create_app calls
# it), not on import: a hash at the default cost takes 64 MiB and about 0.1 s, which every
# process importing this module (a command line, each of the suite's workers and the children
# of tests/test_imports_alone.py) would pay, most of them never to verify a password.
_decoy_hash: str | None = None


def configure_hashing(*, time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set argon2's cost, and make the decoy hash with it now, so that the first unknown email
    answers no faster or slower than the rest. Production keeps argon2-cffi's defaults (RFC
    9106's low-memory profile); the test suite asks for less, so that it can make hundreds of
    accounts quickly. Hashes made with other costs still verify, and are upgraded at the next
    sign-in.
    """
    global _hasher, _decoy_hash  # one hasher for the process, set at start-up
    wanted = (time_cost, memory_kib, parallelism)
    if wanted != (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism):
        _hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        _decoy_hash = None
    _decoy()


def _decoy() -> str:
    """The decoy hash at the hasher's cost (made on first use outside an app)."""
    global _decoy_hash
    if _decoy_hash is None:
        _decoy_hash = _hasher.hash("decoy password that is never anyone's")
    return _decoy_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, spends the same time and says False."""
    try:
        return _hasher.verify(password_hash or _decoy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, personal_words: list[str] | None = None) -> str | None:
    """Why `password` cannot be used, in words for the person choosing it; None if it can."""
    if not password:
        return "Enter a password"
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    words = [w for w in (personal_words or []) if w]
    if zxcvbn(password, user_inputs=words)["score"] < MIN_STRENGTH:
        return (
            "Password is too easy to guess. Try 3 random words together, "
            "and avoid your name, email address and common passwords"
        )
    return None
