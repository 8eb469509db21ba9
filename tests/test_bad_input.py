"""Bad input through the real CLI: one bad document among good ones never spoils the batch.

Every case imports a directory holding three good demo advisories (with their .sha512/.asc
siblings) plus one bad file, on SQLite and on PostgreSQL, and asserts:

- exit code 1 and exactly one line on stderr, `rejected: <the bad file>: <reason>`;
- the three good advisories imported (summary line), and listing shows exactly them;
- the database holds exactly the rows a clean import of the three good files produces (no orphans).

One test reads the list through `vigil advisories list`; the others read the database in-process
(the same service the command calls) to keep the suite quick.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pysequoia
import pytest

from conftest import DEMO_ADVISORIES, Cli, CliResult
from vigil.config import load_settings
from vigil.services.advisory_import import import_candidates
from vigil.services.advisory_read import list_advisories
from vigil.services.store import open_store
from vigil.sources.csaf.files import discover
from vigil.store.advisories import count_rows

GOOD = ("icsma-21-007-01", "icsma-21-012-01", "icsma-21-019-01")
GOOD_IDS = sorted(name.upper() for name in GOOD)
TEMPLATE = DEMO_ADVISORIES / "icsma-21-047-01.json"  # a valid advisory not among GOOD, to spoil
DEFAULT_LIMIT = 50 * 1024 * 1024
ALL_GOOD_SUMMARY = "imported 3, unchanged 0, rejected 1"


def _copy_good(batch: Path) -> None:
    batch.mkdir(parents=True, exist_ok=True)
    for name in GOOD:
        for file in DEMO_ADVISORIES.glob(f"{name}.json*"):
            shutil.copy(file, batch / file.name)


def _template() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(TEMPLATE.read_bytes())
    return doc


def _db_state(database_url: str) -> tuple[list[str], dict[str, int]]:
    """(tracking ids `advisories list` shows, row count of every table but the configured keys)."""
    store = open_store(load_settings(database_url))
    try:
        listed = sorted(row["tracking_id"] for row in list_advisories(store))
        with store.sessions() as session:
            counts = count_rows(session)
    finally:
        store.close()
    counts.pop("openpgp_key", None)  # configured keys are not advisory data
    return listed, counts


@pytest.fixture(scope="module")
def clean_counts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Row counts after importing only the good files into a fresh database."""
    root = tmp_path_factory.mktemp("clean")
    _copy_good(root / "batch")
    url = f"sqlite:///{root / 'clean.db'}"
    store = open_store(load_settings(url))
    try:
        summary = import_candidates(store, discover([root / "batch"], DEFAULT_LIMIT), workers=1)
    finally:
        store.close()
    assert (summary.imported, summary.rejected) == (3, 0)
    listed, counts = _db_state(url)
    assert listed == GOOD_IDS
    return counts


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A directory with the three good advisories; each test adds one bad file."""
    path = tmp_path / "batch"
    _copy_good(path)
    return path


def assert_only_bad_rejected(
    cli: Cli, result: CliResult, bad: Path, words: tuple[str, ...], clean: dict[str, int]
) -> str:
    """The bad file is the one rejection, its reason says `words`, and the good ones are stored intact."""
    assert result.code == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    prefix = f"rejected: {bad}: "
    assert lines[0].startswith(prefix), lines[0]
    reason = lines[0].removeprefix(prefix)
    for word in words:
        assert word.lower() in reason.lower(), (word, reason)
    assert result.stdout.splitlines()[0] == ALL_GOOD_SUMMARY
    assert _db_state(cli.database_url) == (GOOD_IDS, clean)
    return reason


def _import(cli: Cli, *paths: Path, extra: tuple[str, ...] = ()) -> CliResult:
    return cli("advisories", "import", "--quiet", *extra, *map(str, paths))


# --- not JSON, not CSAF ---------------------------------------------------------------------


def test_truncated_json_is_rejected(cli: Cli, batch: Path, clean_counts: dict[str, int]) -> None:
    bad = batch / "truncated.json"
    bad.write_bytes(TEMPLATE.read_bytes()[:700])
    reason = assert_only_bad_rejected(cli, _import(cli, batch), bad, ("not valid JSON", "line"), clean_counts)
    assert "end of data" in reason or "EOF" in reason, reason


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"hello": 1}', ("not a CSAF document", "/document/csaf_version")),
        (b"[1, 2, 3]", ("not a CSAF document", "JSON list")),
        (b'"just a string"', ("not a CSAF document", "JSON str")),
    ],
    ids=["object", "array", "string"],
)
def test_json_that_is_not_csaf_is_rejected(
    cli: Cli, batch: Path, clean_counts: dict[str, int], content: bytes, words: tuple[str, ...]
) -> None:
    bad = batch / "not-csaf.json"
    bad.write_bytes(content)
    assert_only_bad_rejected(cli, _import(cli, batch), bad, words, clean_counts)


def test_unsupported_csaf_version_is_rejected(cli: Cli, batch: Path, clean_counts: dict[str, int]) -> None:
    doc = _template()
    doc["document"]["csaf_version"] = "3.0"
    bad = batch / "csaf-3.json"
    bad.write_text(json.dumps(doc))
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, ("unsupported csaf_version", "'3.0'", "2.0, 2.1"), clean_counts
    )


def test_schema_invalid_csaf_is_rejected_naming_the_schema(cli: Cli, batch: Path, clean_counts: dict[str, int]) -> None:
    doc = _template()
    del doc["document"]["title"]
    bad = batch / "no-title.json"
    bad.write_text(json.dumps(doc))
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, ("CSAF 2.0 JSON schema", "/document", "'title'", "required"), clean_counts
    )


# --- size --------------------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    """A schema-valid advisory of exactly `size` bytes (a long note pads it)."""
    doc = _template()
    doc["document"]["notes"].append({"category": "general", "title": "padding", "text": ""})
    skeleton = json.dumps(doc).encode()
    assert len(skeleton) < size
    doc["document"]["notes"][-1]["text"] = "x" * (size - len(skeleton))
    raw = json.dumps(doc).encode()
    assert len(raw) == size
    return raw


@pytest.mark.slow
def test_sixty_megabyte_document_is_rejected_by_the_default_limit(
    cli: Cli, batch: Path, clean_counts: dict[str, int]
) -> None:
    size = 60 * 1024 * 1024
    bad = batch / "huge.json"
    bad.write_bytes(_padded(size))
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, (f"{size:,} bytes", f"over the {DEFAULT_LIMIT:,}-byte limit"), clean_counts
    )


@pytest.mark.parametrize("how", ["option", "environment"])
def test_configured_size_limit_rejects_larger_documents(
    cli: Cli, batch: Path, clean_counts: dict[str, int], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    limit = max(f.stat().st_size for f in batch.glob("*.json")) + 1_000  # the good ones fit
    bad = batch / "big.json"
    bad.write_bytes(_padded(limit + 1))
    if how == "option":
        result = _import(cli, batch, extra=("--max-size", str(limit)))
    else:
        monkeypatch.setenv("VIGIL_MAX_DOCUMENT_BYTES", str(limit))
        result = _import(cli, batch)
    assert_only_bad_rejected(cli, result, bad, (f"{limit + 1:,} bytes", f"over the {limit:,}-byte limit"), clean_counts)

    # Without the small limit the same (valid) document is accepted: the limit was the only reason.
    monkeypatch.delenv("VIGIL_MAX_DOCUMENT_BYTES", raising=False)
    again = _import(cli, batch)
    assert again.code == 0, again.stderr
    assert again.stdout.splitlines()[0] == "imported 1, unchanged 3, rejected 0"


# --- hostile structure and encoding -------------------------------------------------------------


def test_nesting_ten_thousand_levels_deep_is_rejected(cli: Cli, batch: Path, clean_counts: dict[str, int]) -> None:
    bad = batch / "deep.json"
    bad.write_bytes(b'{"document": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")
    assert_only_bad_rejected(cli, _import(cli, batch), bad, ("not valid JSON", "nested deeper than 1024"), clean_counts)


def test_deep_product_tree_within_the_parser_limit_is_rejected_not_crashing(
    cli: Cli, batch: Path, clean_counts: dict[str, int]
) -> None:
    """900 levels of branches parse (orjson allows 1024) but must not blow the validator's stack."""
    raw = TEMPLATE.read_text()
    anchor = '"branches": ['
    at = raw.index(anchor) + len(anchor)
    leaf = '{"category": "product_version", "name": "1", "product": {"product_id": "DEEP", "name": "deep"}}'
    levels = 450  # each level is an object and an array
    nested = "".join(f'{{"category": "product_family", "name": "f{i}", "branches": [' for i in range(levels))
    bad = batch / "deep-branches.json"
    bad.write_text(raw[:at] + nested + leaf + "]}" * levels + ", " + raw[at:])
    assert_only_bad_rejected(cli, _import(cli, batch), bad, ("nests too deeply",), clean_counts)


def test_invalid_utf8_inside_a_string_is_rejected_with_its_offset(
    cli: Cli, batch: Path, clean_counts: dict[str, int]
) -> None:
    raw = TEMPLATE.read_bytes()
    at = raw.index(b'"title": "') + len(b'"title": "')
    bad = batch / "bad-utf8.json"
    bad.write_bytes(raw[:at] + b"\xff\xfe" + raw[at:])
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, ("not valid JSON", "invalid UTF-8", f"at byte {at}"), clean_counts
    )


# --- integrity ----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_hash_mismatch_is_rejected(cli: Cli, batch: Path, clean_counts: dict[str, int], algorithm: str) -> None:
    bad = batch / "tampered.json"
    shutil.copy(TEMPLATE, bad)
    wrong = hashlib.new(algorithm, b"some other document").hexdigest()
    (batch / f"tampered.json.{algorithm}").write_text(f"{wrong}  tampered.json\n")
    real = hashlib.new(algorithm, bad.read_bytes()).hexdigest()
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, (f"{algorithm} mismatch", real[:16], wrong[:16]), clean_counts
    )


def test_hash_file_without_a_digest_is_rejected(cli: Cli, batch: Path, clean_counts: dict[str, int]) -> None:
    bad = batch / "garbled.json"
    shutil.copy(TEMPLATE, bad)
    (batch / "garbled.json.sha512").write_text("<html>404 not found</html>\n")
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, (".sha512 file", "does not hold a sha512 hex digest"), clean_counts
    )


@pytest.fixture(scope="module")
def signing_keys() -> tuple[pysequoia.Tsk, pysequoia.Tsk]:
    """The provider's key (configured in vigil) and a stranger's key."""
    return (
        pysequoia.Tsk.generate("Provider <psirt@example.org>"),
        pysequoia.Tsk.generate("Stranger <mallory@example.org>"),
    )


def _sign(key: pysequoia.Tsk, data: bytes) -> bytes:
    return pysequoia.sign(key.signer(), data, mode=pysequoia.SignatureMode.DETACHED)


def _trust(cli: Cli, tmp_path: Path, key: pysequoia.Tsk) -> None:
    """Configure `key` with `vigil keys add`, and re-sign the good advisories with it."""
    public = tmp_path / "provider.asc"
    public.write_text(str(key.extract_certificate()))
    added = cli("keys", "add", str(public))
    assert added.code == 0, added.stderr
    for name in GOOD:
        doc = tmp_path / "batch" / f"{name}.json"
        doc.with_name(f"{doc.name}.asc").write_bytes(_sign(key, doc.read_bytes()))


def test_signature_by_another_key_is_rejected(
    cli: Cli, tmp_path: Path, batch: Path, clean_counts: dict[str, int], signing_keys: tuple[Any, Any]
) -> None:
    provider, stranger = signing_keys
    _trust(cli, tmp_path, provider)
    bad = batch / "forged.json"
    shutil.copy(TEMPLATE, bad)
    (batch / "forged.json.asc").write_bytes(_sign(stranger, bad.read_bytes()))
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, ("OpenPGP signature does not verify with any configured key",), clean_counts
    )
    shown = json.loads(cli("advisories", "show", GOOD_IDS[0], "--format", "json").stdout)
    assert shown["signature"] == "verified"


def test_document_modified_after_signing_is_rejected(
    cli: Cli, tmp_path: Path, batch: Path, clean_counts: dict[str, int], signing_keys: tuple[Any, Any]
) -> None:
    provider, _ = signing_keys
    _trust(cli, tmp_path, provider)
    original = TEMPLATE.read_bytes()
    modified = original.replace(b'"status": "final"', b'"status": "final" ', 1)
    assert modified != original
    bad = batch / "modified.json"
    bad.write_bytes(modified)
    (batch / "modified.json.asc").write_bytes(_sign(provider, original))
    # The attacker could rewrite the hash file too; only the signature catches the change.
    (batch / "modified.json.sha512").write_text(hashlib.sha512(modified).hexdigest())
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, ("OpenPGP signature does not verify with any configured key",), clean_counts
    )


def test_asc_that_is_not_a_signature_is_rejected(
    cli: Cli, tmp_path: Path, batch: Path, clean_counts: dict[str, int], signing_keys: tuple[Any, Any]
) -> None:
    provider, _ = signing_keys
    _trust(cli, tmp_path, provider)
    bad = batch / "junk-sig.json"
    shutil.copy(TEMPLATE, bad)
    (batch / "junk-sig.json.asc").write_text("-----BEGIN PGP SIGNATURE-----\n\nnot base64 at all\n")
    assert_only_bad_rejected(cli, _import(cli, batch), bad, (".asc is not an OpenPGP signature",), clean_counts)


# --- paths --------------------------------------------------------------------------------------


def test_symlink_pointing_outside_the_import_root_is_rejected(
    cli: Cli, tmp_path: Path, batch: Path, clean_counts: dict[str, int]
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "secret.json"
    shutil.copy(TEMPLATE, target)  # a perfectly valid advisory: only where it lives is wrong
    bad = batch / "link.json"
    bad.symlink_to(target)
    assert_only_bad_rejected(
        cli, _import(cli, batch), bad, ("symlink points outside the import root", str(batch)), clean_counts
    )


def test_nonexistent_path_is_rejected_and_the_others_still_imported(
    cli: Cli, tmp_path: Path, batch: Path, clean_counts: dict[str, int]
) -> None:
    missing = tmp_path / "no-such-advisory.json"
    assert_only_bad_rejected(cli, _import(cli, batch, missing), missing, ("no such file or directory",), clean_counts)
    listed = json.loads(cli("advisories", "list", "--format", "json").stdout)
    assert sorted(row["tracking_id"] for row in listed) == GOOD_IDS


# --- usage errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("advisories", "import"),
        ("advisories", "import", "--format", "xml", "BATCH"),
        ("advisories", "import", "--max-size", "lots", "BATCH"),
        ("advisories", "import", "--workers", "0", "BATCH"),
    ],
    ids=["no-paths", "bad-format", "bad-max-size", "zero-workers"],
)
def test_usage_error_exits_2_and_imports_nothing(cli: Cli, batch: Path, args: tuple[str, ...]) -> None:
    result = cli(*(str(batch) if a == "BATCH" else a for a in args))
    assert result.code == 2, result
    assert "Usage:" in result.stderr
    assert result.stdout == ""
    listed = json.loads(cli("advisories", "list", "--format", "json").stdout)
    assert listed == []
