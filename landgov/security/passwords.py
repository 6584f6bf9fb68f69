"""Password hashes (argon2id) and the password rule for people's accounts.

argon2id with the RFC 9106 "second recommended" parameters (64 MiB, 3 passes, 4 lanes):
slow enough that a stolen table of hashes cannot be searched quickly, fast enough for a
sign-in (~50-100 ms here). A hash made with older parameters is re-hashed at the next
successful sign-in.
"""

from __future__ import annotations

import secrets
import string
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from landgov.errors import DomainError

MIN_LENGTH: Final = 12
_HASHER: Final = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
# a hash to compare against when the account does not exist: the same work either way
_DUMMY: Final = _HASHER.hash(secrets.token_urlsafe(16))


class WeakPassword(DomainError):
    """A new password breaks the password rule."""


def check_strength(password: str, username: str = "") -> None:
    """At least 12 characters, not the username, not one repeated character.

    Raises:
        WeakPassword: saying which.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("a password must not contain the username")
    if len(set(password)) < 4:
        raise WeakPassword("a password needs more than three different characters")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash, the same work is done
    against a dummy and False returned (timing does not tell that an account is missing)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def generate_password(length: int = 20) -> str:
    """A random password of letters and digits (for new accounts and resets)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isupper() for c in candidate):
            return candidate
