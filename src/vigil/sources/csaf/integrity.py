"""Integrity of a received advisory: sibling hash files and detached OpenPGP signatures (CSAF §7.1.18-19)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pysequoia

from vigil.errors import first_line
from vigil.sources.csaf.errors import RejectedDocument

_HEX = {"sha256": re.compile(r"^[0-9a-fA-F]{64}$"), "sha512": re.compile(r"^[0-9a-fA-F]{128}$")}


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An OpenPGP certificate vigil trusts for advisory signatures."""

    fingerprint: str
    """Lower-case hex fingerprint of the primary key."""
    user_ids: tuple[str, ...]
    """User IDs on the certificate, for display."""
    armored: str
    """The certificate, ASCII-armored, as stored."""


@dataclass(frozen=True, slots=True)
class Integrity:
    """What integrity checks a document passed."""

    hashes: str
    """Algorithms of sibling hash files that matched, e.g. `sha512`, or `none`."""
    signature: str
    """`verified`, `unchecked` (signed but no key configured) or `absent`."""
    signer_fingerprint: str | None
    """Fingerprint of the configured key that verified the signature."""


def check_hash(content: bytes, algorithm: str, sidecar: bytes) -> None:
    """Compare `content` to a `.sha256`/`.sha512` file (`<hex>` or `<hex>  <filename>`)."""
    text = sidecar.decode("ascii", errors="replace").strip()
    expected = text.split()[0] if text else ""
    if not _HEX[algorithm].match(expected):
        raise RejectedDocument(f".{algorithm} file does not hold a {algorithm} hex digest")
    actual = hashlib.new(algorithm, content).hexdigest()
    if actual != expected.lower():
        raise RejectedDocument(
            f"{algorithm} mismatch: file hashes to {actual[:16]}…, .{algorithm} says {expected[:16]}…"
        )


def parse_public_key(armored: bytes) -> PublicKey:
    """Read one OpenPGP certificate (armored or binary); raise ValueError when it is not one."""
    try:
        # Tsk reads public and secret keys alike; it serialises as a PRIVATE KEY BLOCK exactly when
        # secret material is present (Cert.has_secret_keys is deprecated in pysequoia).
        key = pysequoia.Tsk.from_bytes(armored)
    except Exception as error:  # pysequoia raises plain Exception subclasses with backtraces
        raise ValueError(f"not an OpenPGP public key: {first_line(error)}") from None
    if str(key).startswith("-----BEGIN PGP PRIVATE KEY BLOCK"):
        raise ValueError("this is a secret key; give vigil only the public certificate")
    cert = key.extract_certificate()
    return PublicKey(
        fingerprint=cert.fingerprint.lower(),
        user_ids=tuple(str(uid) for uid in cert.user_ids),
        armored=str(cert),
    )


def verify_signature(content: bytes, signature: bytes, keys: tuple[PublicKey, ...]) -> str:
    """Return the fingerprint of the configured key that made this detached signature, or reject."""
    try:
        sig = pysequoia.Sig.from_bytes(signature)
    except Exception as error:
        raise RejectedDocument(f".asc is not an OpenPGP signature: {first_line(error)}") from None
    certs = [pysequoia.Cert.from_bytes(key.armored.encode()) for key in keys]

    def store(_key_ids: Any) -> list[Any]:
        return certs

    try:
        result = pysequoia.verify(bytes=content, store=store, signature=sig)
    except Exception as error:
        raise RejectedDocument(
            f"OpenPGP signature does not verify with any configured key ({first_line(error)})"
        ) from None
    return str(result.valid_sigs[0].certificate).lower()


def sha256_and_sha512(content: bytes) -> tuple[str, str]:
    return hashlib.sha256(content).hexdigest(), hashlib.sha512(content).hexdigest()
