"""Integrity with real OpenPGP keys and hash files, through the real CLI on both databases.

Keys are generated in-test with pysequoia; when `gpg` is installed, one test cross-checks
signatures made by GnuPG (and GnuPG verifying ours).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pysequoia
import pytest

from conftest import SEED_CSAF, Cli

SEED_ID = "ICSMA-21-019-01"


@pytest.fixture(scope="module")
def provider() -> pysequoia.Tsk:
    return pysequoia.Tsk.generate("Test <t@example.org>")


@pytest.fixture(scope="module")
def stranger() -> pysequoia.Tsk:
    return pysequoia.Tsk.generate("Stranger <s@example.org>")


def _public_file(directory: Path, key: pysequoia.Tsk, name: str = "public.asc") -> Path:
    path = directory / name
    path.write_text(str(key.extract_certificate()))
    return path


def _add_key(cli: Cli, directory: Path, key: pysequoia.Tsk) -> None:
    result = cli("keys", "add", str(_public_file(directory, key, f"{key.extract_certificate().fingerprint}.asc")))
    assert result.code == 0, result.stderr


def _doc(directory: Path, *, signed_by: pysequoia.Tsk | None = None) -> Path:
    """A copy of the seed advisory without siblings, optionally with a detached signature."""
    directory.mkdir(parents=True, exist_ok=True)
    doc = directory / SEED_CSAF.name
    shutil.copy(SEED_CSAF, doc)
    if signed_by is not None:
        signature = pysequoia.sign(signed_by.signer(), doc.read_bytes(), mode=pysequoia.SignatureMode.DETACHED)
        doc.with_name(f"{doc.name}.asc").write_bytes(signature)
    return doc


def _import_one(cli: Cli, doc: Path) -> dict[str, Any]:
    result = cli("advisories", "import", "--quiet", str(doc))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "imported 1, unchanged 0, rejected 0"
    shown: dict[str, Any] = json.loads(cli("advisories", "show", SEED_ID, "--format", "json").stdout)
    return shown


def _keys(cli: Cli) -> list[dict[str, Any]]:
    result = cli("keys", "list", "--format", "json")
    assert result.code == 0, result.stderr
    keys: list[dict[str, Any]] = json.loads(result.stdout)
    return keys


# --- vigil keys ---------------------------------------------------------------------------------


def test_keys_add_refuses_a_secret_key(cli: Cli, tmp_path: Path, provider: pysequoia.Tsk) -> None:
    secret = tmp_path / "secret.asc"
    secret.write_text(str(provider))
    assert "PRIVATE KEY BLOCK" in secret.read_text()  # the file really holds secret material

    result = cli("keys", "add", str(secret))
    assert result.code == 1
    assert result.stderr.strip() == f"error: {secret}: this is a secret key; give vigil only the public certificate"
    assert result.stdout == ""
    assert _keys(cli) == []


def test_public_certificate_from_pysequoia_holds_no_secrets(provider: pysequoia.Tsk) -> None:
    public = str(provider.extract_certificate())
    assert "PUBLIC KEY BLOCK" in public
    assert "PRIVATE" not in public
    assert pysequoia.Cert.from_bytes(public.encode()).fingerprint == provider.extract_certificate().fingerprint


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, I am not a key\n", "not an OpenPGP public key"),
        (None, "cannot read"),
    ],
    ids=["garbage", "missing-file"],
)
def test_keys_add_refuses_what_is_not_a_public_key(
    cli: Cli, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "key.asc"
    if content is not None:
        path.write_bytes(content)
    result = cli("keys", "add", str(path))
    assert result.code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {message}"), result.stderr
    assert _keys(cli) == []


def test_keys_add_list_remove(cli: Cli, tmp_path: Path, provider: pysequoia.Tsk) -> None:
    fingerprint = provider.extract_certificate().fingerprint.lower()
    public = _public_file(tmp_path, provider)

    assert cli("keys", "list").stdout.strip() == "no keys configured: signatures are recorded as unchecked"

    added = cli("keys", "add", str(public))
    assert added.code == 0, added.stderr
    assert added.stdout.strip() == f"added {fingerprint} Test <t@example.org>"

    again = cli("keys", "add", str(public))
    assert again.code == 0, again.stderr
    assert again.stdout.strip() == f"already configured: {fingerprint} Test <t@example.org>"

    assert _keys(cli) == [{"fingerprint": fingerprint, "user_ids": ["Test <t@example.org>"]}]
    assert cli("keys", "list").stdout.strip() == f"{fingerprint}  Test <t@example.org>"

    removed = cli("keys", "remove", fingerprint.upper())  # fingerprints compare case-insensitively
    assert removed.code == 0, removed.stderr
    assert removed.stdout.strip() == f"removed {fingerprint}"
    assert _keys(cli) == []

    gone = cli("keys", "remove", fingerprint)
    assert gone.code == 1
    assert gone.stderr.strip() == f"error: no configured key with fingerprint {fingerprint}"


# --- signatures on import -------------------------------------------------------------------------


def test_signed_document_with_configured_key_is_verified(cli: Cli, tmp_path: Path, provider: pysequoia.Tsk) -> None:
    _add_key(cli, tmp_path, provider)
    shown = _import_one(cli, _doc(tmp_path / "in", signed_by=provider))
    assert shown["signature"] == "verified"
    assert shown["signer_fingerprint"] == provider.extract_certificate().fingerprint.lower()
    listed = json.loads(cli("advisories", "list", "--format", "json").stdout)
    assert [row["signature"] for row in listed] == ["verified"]


def test_signed_document_without_configured_key_is_unchecked(cli: Cli, tmp_path: Path, provider: pysequoia.Tsk) -> None:
    shown = _import_one(cli, _doc(tmp_path / "in", signed_by=provider))
    assert shown["signature"] == "unchecked"
    assert shown["signer_fingerprint"] is None


def test_document_without_asc_is_recorded_absent_even_with_a_key(
    cli: Cli, tmp_path: Path, provider: pysequoia.Tsk
) -> None:
    _add_key(cli, tmp_path, provider)
    shown = _import_one(cli, _doc(tmp_path / "in"))
    assert shown["signature"] == "absent"
    assert shown["signer_fingerprint"] is None


def test_signature_by_an_unconfigured_key_is_rejected(
    cli: Cli, tmp_path: Path, provider: pysequoia.Tsk, stranger: pysequoia.Tsk
) -> None:
    _add_key(cli, tmp_path, provider)
    doc = _doc(tmp_path / "in", signed_by=stranger)
    result = cli("advisories", "import", "--quiet", str(doc))
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"rejected: {doc}: OpenPGP signature does not verify with any configured key "
        "(Signature verification failed: no valid signatures found.)"
    ]
    assert result.stdout.splitlines()[0] == "imported 0, unchanged 0, rejected 1"
    assert json.loads(cli("advisories", "list", "--format", "json").stdout) == []


def test_each_configured_key_verifies_its_own_signatures(
    cli: Cli, tmp_path: Path, provider: pysequoia.Tsk, stranger: pysequoia.Tsk
) -> None:
    _add_key(cli, tmp_path, provider)
    _add_key(cli, tmp_path, stranger)
    shown = _import_one(cli, _doc(tmp_path / "in", signed_by=stranger))
    assert shown["signature"] == "verified"
    assert shown["signer_fingerprint"] == stranger.extract_certificate().fingerprint.lower()


def test_after_removing_the_key_signatures_are_unchecked_again(
    cli: Cli, tmp_path: Path, provider: pysequoia.Tsk, stranger: pysequoia.Tsk
) -> None:
    _add_key(cli, tmp_path, provider)
    assert cli("keys", "remove", provider.extract_certificate().fingerprint).code == 0
    # With no key left, even a stranger's signature is merely recorded, not judged.
    shown = _import_one(cli, _doc(tmp_path / "in", signed_by=stranger))
    assert shown["signature"] == "unchecked"


def _gpg(home: Path, *args: str, data: bytes | None = None) -> bytes:
    env = {**os.environ, "GNUPGHOME": str(home)}
    proc = subprocess.run(
        ["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", *args],
        input=data,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


@pytest.fixture
def gnupg_home(tmp_path: Path) -> Any:
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not on PATH: the GnuPG cross-check needs the gpg binary")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    try:
        yield home
    finally:
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env={**os.environ, "GNUPGHOME": str(home)},
            capture_output=True,
            check=False,
            timeout=30,
        )


def test_gnupg_made_signature_verifies_and_gnupg_accepts_ours(
    cli: Cli, tmp_path: Path, gnupg_home: Path, provider: pysequoia.Tsk
) -> None:
    _gpg(gnupg_home, "--quick-gen-key", "GnuPG Test <g@example.org>", "ed25519", "sign", "never")
    colons = _gpg(gnupg_home, "--with-colons", "--list-keys").decode()
    fingerprint = next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr:")).lower()
    public = tmp_path / "gnupg-public.asc"
    public.write_bytes(_gpg(gnupg_home, "--armor", "--export", fingerprint))

    added = cli("keys", "add", str(public))
    assert added.code == 0, added.stderr
    assert added.stdout.strip() == f"added {fingerprint} GnuPG Test <g@example.org>"

    doc = _doc(tmp_path / "in")
    doc.with_name(f"{doc.name}.asc").write_bytes(
        _gpg(gnupg_home, "--armor", "--detach-sign", "--output", "-", str(doc))
    )
    shown = _import_one(cli, doc)
    assert shown["signature"] == "verified"
    assert shown["signer_fingerprint"] == fingerprint

    # The other direction: GnuPG verifies a signature made the way the tests (and providers using
    # Sequoia) make them.
    theirs = tmp_path / "pysequoia-public.asc"
    theirs.write_text(str(provider.extract_certificate()))
    _gpg(gnupg_home, "--import", str(theirs))
    ours = tmp_path / "ours.json.asc"
    ours.write_bytes(pysequoia.sign(provider.signer(), doc.read_bytes(), mode=pysequoia.SignatureMode.DETACHED))
    _gpg(gnupg_home, "--verify", str(ours), str(doc))


# --- hash files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sidecars", "expected"),
    [
        (("sha256", "sha512"), "sha256+sha512"),
        (("sha512",), "sha512"),
        (("sha256",), "sha256"),
        ((), "none"),
    ],
    ids=["both", "sha512", "sha256", "none"],
)
def test_matching_hash_files_are_recorded(cli: Cli, tmp_path: Path, sidecars: tuple[str, ...], expected: str) -> None:
    doc = _doc(tmp_path / "in")
    for algorithm in sidecars:
        digest = hashlib.new(algorithm, doc.read_bytes()).hexdigest()
        doc.with_name(f"{doc.name}.{algorithm}").write_text(f"{digest}  {doc.name}\n")
    shown = _import_one(cli, doc)
    assert shown["integrity"] == expected
    assert shown["sha256"] == hashlib.sha256(doc.read_bytes()).hexdigest()


def test_bare_upper_case_digest_is_accepted(cli: Cli, tmp_path: Path) -> None:
    """`sha512sum` writes `<hex>  <name>`; some providers write only the hex, some in upper case."""
    doc = _doc(tmp_path / "in")
    doc.with_name(f"{doc.name}.sha512").write_text(hashlib.sha512(doc.read_bytes()).hexdigest().upper())
    assert _import_one(cli, doc)["integrity"] == "sha512"


def test_one_wrong_hash_file_rejects_even_if_the_other_matches(cli: Cli, tmp_path: Path) -> None:
    doc = _doc(tmp_path / "in")
    doc.with_name(f"{doc.name}.sha512").write_text(hashlib.sha512(doc.read_bytes()).hexdigest())
    doc.with_name(f"{doc.name}.sha256").write_text(hashlib.sha256(b"not it").hexdigest())
    result = cli("advisories", "import", "--quiet", str(doc))
    assert result.code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rejected: {doc}: sha256 mismatch"), result.stderr
    assert json.loads(cli("advisories", "list", "--format", "json").stdout) == []


def test_adding_a_key_later_upgrades_unchanged_bytes_to_verified(
    cli: Cli, tmp_path: Path, provider: pysequoia.Tsk
) -> None:
    doc = _doc(tmp_path / "batch", signed_by=provider)
    assert _import_one(cli, doc)["signature"] == "unchecked"

    _add_key(cli, tmp_path, provider)
    again = cli("advisories", "import", "--format", "json", str(doc))
    assert again.code == 0, again.stderr
    [outcome] = json.loads(again.stdout)["outcomes"]
    assert outcome["status"] == "unchanged"
    assert outcome["reason"] == "identical bytes already stored; its signature is now verified"
    shown = json.loads(cli("advisories", "show", SEED_ID, "--format", "json").stdout)
    assert shown["signature"] == "verified"
    assert shown["signer_fingerprint"] == provider.extract_certificate().fingerprint.lower()
