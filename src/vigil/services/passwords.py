"""Password hashing (argon2id) and the password policy.

Parameters are RFC 9106's second recommended option (argon2id, t=3, m=64 MiB, p=4), spelled out here so a
library upgrade cannot change them silently; every hash carries them (`$argon2id$v=19$m=65536,t=3,p=4$...`),
and `needs_rehash` upgrades old hashes at the next successful login.
"""

from __future__ import annotations

import functools
import secrets
import threading
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024
"""Beyond this, hashing is only a way to make the server work hard."""

CONCURRENT_HASHES: Final = 4
"""At most this many argon2 computations at once (64 MiB each): a login flood queues instead of exhausting memory."""
_SLOTS: Final = threading.BoundedSemaphore(CONCURRENT_HASHES)

HASHER: Final = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16, type=Type.ID)

_COMMON_WORDS: Final = frozenset(
    [
        "password",
        "passwort",
        "motdepasse",
        "contrasena",
        "qwerty",
        "qwertz",
        "azerty",
        "asdf",
        "zxcv",
        "letmein",
        "welcome",
        "admin",
        "administrator",
        "root",
        "changeme",
        "secret",
        "iloveyou",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "master",
        "shadow",
        "superman",
        "batman",
        "trustno",
        "login",
        "guest",
        "default",
        "hospital",
        "clinic",
        "vigil",
        "summer",
        "winter",
        "spring",
        "autumn",
        "test",
        "testing",
        "user",
        "abc",
    ]
)
_RUNS: Final = (
    "01234567890123456789",
    "98765432109876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm",
)


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why (never the password)."""


def check_policy(password: str, username: str) -> None:
    """Refuse short, long, repetitive, keyboard-run, dictionary-word-plus-digits or username-based passwords."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password too short: at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password too long: at most {MAX_LENGTH} characters")
    folded = password.casefold()
    if len(set(folded)) < 5:
        raise WeakPassword("password too repetitive: use at least 5 different characters")
    name = username.casefold()
    if len(name) >= 3 and name in folded:
        raise WeakPassword("password contains the username")
    if any(folded in run * 2 for run in _RUNS):
        raise WeakPassword("password is a keyboard or counting sequence")
    letters = "".join(char for char in folded if char.isalpha())
    if not letters or _only_common_words(letters):
        raise WeakPassword("password is a common word with digits or symbols around it: use a passphrase")


def _only_common_words(letters: str) -> bool:
    """True when the letters are nothing but common words, repeated or joined ('passwordpassword', 'adminroot')."""
    if not letters:
        return True
    return any(letters.startswith(word) and _only_common_words(letters[len(word) :]) for word in _COMMON_WORDS)


def hash_password(password: str) -> str:
    with _SLOTS:
        return HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """True when `password` matches; False for a mismatch or a hash that is not argon2 at all."""
    try:
        with _SLOTS:
            return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password: unknown users are verified against it, so they take as long as known ones."""
    return hash_password(secrets.token_urlsafe(24))
