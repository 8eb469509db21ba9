"""The audit trail: every change leaves a hash-chained entry, and `vigil audit verify` finds any edited or
deleted one (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from conftest import DEMO_ADVISORIES, ROOT, Cli
from vigil.config import load_settings
from vigil.services.store import Store, open_store
from vigil.store import audit
from vigil.store import schema as t
from vigil.store.db import transaction

NOW = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
HBOM = ROOT / "tests" / "data" / "cyclonedx" / "philips-workstation-hbom-1.6.json"


def _append(store: Store, site_id: int | None, count: int, action: str = "test.entry") -> None:
    with transaction(store.sessions) as session:
        for i in range(count):
            at = NOW + timedelta(seconds=i)
            audit.append(session, site_id, "tester", action, f"subject {i}", {"i": i, "note": "é"}, at)


def _verify(store: Store, site_id: int | None = None, anchors: Any = None) -> audit.VerifyReport:
    with store.sessions() as session:
        return audit.verify(session, site_id, anchors)


def _broken(report: audit.VerifyReport) -> dict[int, tuple[int, str]]:
    return {c.site_id: (c.broken.seq, c.broken.reason) for c in report.chains if c.broken is not None}


def _entries(store: Store, site_id: int) -> list[t.AuditEntry]:
    with store.sessions() as session:
        query = select(t.AuditEntry).where(t.AuditEntry.site_id == site_id).order_by(t.AuditEntry.seq)
        return list(session.scalars(query))


def _edit(store: Store, statement: Any) -> None:
    """A change made behind vigil's back, as someone with database access would."""
    with transaction(store.sessions) as session:
        session.execute(statement)


def _entry(site_id: int, seq: int) -> Any:
    return update(t.AuditEntry).where(t.AuditEntry.site_id == site_id, t.AuditEntry.seq == seq)


def _head(site_id: int) -> Any:
    return update(t.AuditHead).where(t.AuditHead.site_id == site_id)


def test_chains_link_entries_per_site_and_verify_intact(store: Store) -> None:
    _append(store, None, 3)
    _append(store, 7, 2)
    _append(store, None, 1)

    installation = _entries(store, audit.INSTALLATION)
    assert [e.seq for e in installation] == [1, 2, 3, 4]
    assert installation[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in installation[1:]] == [e.hash for e in installation[:-1]]
    assert installation[0].at == NOW  # microseconds survive both databases: the hash covers them
    assert [e.seq for e in _entries(store, 7)] == [1, 2]  # chains never cross sites
    with store.sessions() as session:
        heads = {h.site_id: (h.seq, h.hash) for h in audit.heads(session)}
    assert heads == {0: (4, installation[-1].hash), 7: (2, _entries(store, 7)[-1].hash)}

    report = _verify(store)
    assert report.intact
    assert [(c.site_id, c.entries) for c in report.chains] == [(0, 4), (7, 2)]


@pytest.mark.parametrize(
    "values",
    [
        {"detail": {"i": 2, "note": "changed"}},
        {"actor": "mallory"},
        {"action": "test.other"},
        {"subject": None},
        {"at": NOW + timedelta(microseconds=1)},
    ],
    ids=["detail", "actor", "action", "subject", "at"],
)
def test_an_edited_entry_is_reported_with_its_chain_and_seq(store: Store, values: dict[str, Any]) -> None:
    _append(store, 1, 5)
    _append(store, 2, 3)
    _edit(store, _entry(1, 3).values(**values))

    assert _broken(_verify(store)) == {1: (3, "hash mismatch: entry edited")}
    assert _verify(store, 2).intact  # one site's chain checked alone


def test_an_entry_replaced_with_a_recomputed_hash_breaks_the_next_link(store: Store) -> None:
    _append(store, 1, 5)
    third = _entries(store, 1)[2]
    forged = {"i": 2, "note": "forged"}
    digest = audit.entry_hash(1, 3, third.at, third.actor, third.action, third.subject, forged, third.prev_hash)
    _edit(store, _entry(1, 3).values(detail=forged, hash=digest))

    seq, reason = _broken(_verify(store))[1]
    assert (seq, reason.split(":")[0]) == (4, "prev_hash mismatch")


def test_a_deleted_middle_entry_is_reported(store: Store) -> None:
    _append(store, 1, 5)
    _edit(store, delete(t.AuditEntry).where(t.AuditEntry.site_id == 1, t.AuditEntry.seq == 3))

    assert _broken(_verify(store)) == {1: (3, "entry 3 missing (next is 4): deleted")}


def test_deleting_the_newest_entries_is_a_head_mismatch(store: Store) -> None:
    _append(store, 1, 5)
    _edit(store, delete(t.AuditEntry).where(t.AuditEntry.site_id == 1, t.AuditEntry.seq >= 4))

    seq, reason = _broken(_verify(store))[1]
    assert seq == 4 and reason.startswith("head mismatch: head says seq 5, chain ends at 3")


def test_an_edited_or_deleted_head_is_reported(store: Store) -> None:
    _append(store, 1, 5)
    _append(store, 2, 5)
    _append(store, 3, 5)
    _edit(store, _head(1).values(hash="f" * 64))
    _edit(store, _head(2).values(seq=4))
    _edit(store, delete(t.AuditHead).where(t.AuditHead.site_id == 3))

    broken = _broken(_verify(store))
    assert broken[1] == (5, "head mismatch: head hash differs from the last entry's: head edited")
    assert broken[2][0] == 5 and broken[2][1].startswith("entry beyond head (head seq 4)")
    assert broken[3] == (5, "head row missing: head deleted")


def test_a_chain_whose_entries_are_all_deleted_is_reported(store: Store) -> None:
    _append(store, 1, 2)
    _edit(store, delete(t.AuditEntry).where(t.AuditEntry.site_id == 1))

    seq, reason = _broken(_verify(store))[1]
    assert seq == 1 and reason.startswith("head mismatch: head says seq 2, chain ends at 0")


def test_an_entry_edited_into_invalid_json_is_reported_not_fatal(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json type refuses invalid JSON itself")
    _append(store, 1, 3)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_entry SET detail = '{broken' WHERE site_id = 1 AND seq = 2")

    seq, reason = _broken(_verify(store))[1]
    assert seq == 2 and reason.startswith("unreadable entry after seq 1")


def test_a_rewritten_chain_passes_alone_but_not_against_its_anchor(store: Store) -> None:
    _append(store, 1, 4)
    with store.sessions() as session:
        anchors = {h.site_id: h for h in audit.heads(session)}
    _append(store, 1, 2)
    assert _verify(store, anchors=anchors).intact  # the anchored chain is a prefix of today's

    # Someone with write access edits entry 2 and recomputes every later hash and the head.
    prev = _entries(store, 1)[0].hash
    for entry in _entries(store, 1)[1:]:
        detail = {"i": 99} if entry.seq == 2 else entry.detail
        digest = audit.entry_hash(1, entry.seq, entry.at, entry.actor, entry.action, entry.subject, detail, prev)
        _edit(store, _entry(1, entry.seq).values(detail=detail, prev_hash=prev, hash=digest))
        prev = digest
    _edit(store, _head(1).values(hash=prev))

    assert _verify(store).intact  # what the chain alone cannot prove
    seq, reason = _broken(_verify(store, anchors=anchors))[1]
    assert seq == 4 and reason.startswith("anchor mismatch")


def test_an_anchor_beyond_the_chain_end_is_reported(store: Store) -> None:
    _append(store, 1, 3)
    with store.sessions() as session:
        anchors = {h.site_id: h for h in audit.heads(session)}
    last = _entries(store, 1)[1]
    _edit(store, delete(t.AuditEntry).where(t.AuditEntry.site_id == 1, t.AuditEntry.seq == 3))
    _edit(store, _head(1).values(seq=2, hash=last.hash))  # the deletion covered up in the head
    gone = {9: audit.ChainHead(9, 1, "a" * 64)}

    assert _verify(store).intact
    broken = _broken(_verify(store, anchors=anchors | gone))
    assert broken[1] == (3, "anchor mismatch: anchored seq 3 beyond chain end 2")
    assert broken[9] == (1, "anchored chain (seq 1) no longer exists")


def test_a_rolled_back_change_leaves_no_entry(store: Store) -> None:
    with pytest.raises(RuntimeError), transaction(store.sessions) as session:
        audit.append(session, 1, "tester", "test.entry", None, {}, NOW)
        raise RuntimeError("the change failed")

    with store.sessions() as session:
        assert session.scalars(select(t.AuditEntry)).all() == []
        assert session.scalars(select(t.AuditHead)).all() == []
    _append(store, 1, 1)
    assert [e.seq for e in _entries(store, 1)] == [1]


def test_detail_is_stored_as_json_reads_it_back(store: Store) -> None:
    with pytest.raises(TypeError), transaction(store.sessions) as session:
        audit.append(session, 1, "tester", "test.entry", None, {"when": NOW}, NOW)
    with pytest.raises(ValueError), transaction(store.sessions) as session:
        audit.append(session, 1, "tester", "test.entry", None, {"score": float("nan")}, NOW)
    with transaction(store.sessions) as session:
        audit.append(session, 1, "tester", "test.entry", None, {"ids": (1, 2), 3: "three"}, NOW)

    assert _entries(store, 1)[0].detail == {"ids": [1, 2], "3": "three"}
    assert _verify(store).intact


_WRITER = """
import sys
from datetime import UTC, datetime
from vigil.config import load_settings
from vigil.services.store import open_store
from vigil.store import audit
from vigil.store.db import transaction

store = open_store(load_settings(sys.argv[1]), migrate=False)
for i in range(int(sys.argv[3])):
    with transaction(store.sessions) as session:
        audit.append(session, 5, sys.argv[2], "test.concurrent", None, {"i": i}, datetime.now(UTC))
"""


def test_concurrent_writers_never_fork_a_chain(store: Store, database_url: str) -> None:
    count = 60
    if store.engine.dialect.name == "sqlite":  # one writer per process, as SQLite deployments run
        writers = [
            subprocess.Popen([sys.executable, "-c", _WRITER, database_url, name, str(count)], cwd=ROOT)
            for name in ("a", "b")
        ]
        assert [w.wait(timeout=300) for w in writers] == [0, 0]
    else:  # threads, each its own session and transactions
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def write(name: str) -> None:
            try:
                other = open_store(load_settings(database_url), migrate=False)
                start.wait()
                for i in range(count):
                    with transaction(other.sessions) as session:
                        audit.append(session, 5, name, "test.concurrent", None, {"i": i}, datetime.now(UTC))
                other.close()
            except BaseException as error:  # reported below, not lost in the thread
                failures.append(error)

        threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert failures == []

    entries = _entries(store, 5)
    assert [e.seq for e in entries] == list(range(1, 2 * count + 1))
    assert sorted(e.actor for e in entries) == ["a"] * count + ["b"] * count
    assert _verify(store).intact


# End to end: every command that changes the database leaves an entry.


def _provider(root: Path) -> Path:
    """A local provider-like directory holding one demo advisory (for `vigil advisories sync`)."""
    white = root / "white"
    (white / "2021").mkdir(parents=True)
    for suffix in ("", ".sha512", ".asc"):
        shutil.copyfile(
            DEMO_ADVISORIES / f"icsma-21-007-01.json{suffix}", white / "2021" / f"icsma-21-007-01.json{suffix}"
        )
    (white / "changes.csv").write_text('"2021/icsma-21-007-01.json","2021-01-07T00:00:00+00:00"\n')
    return root


def _listed(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("audit", "list", "--format", "json", *args)
    assert result.code == 0, result.stderr
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries


def test_every_change_command_leaves_an_entry_and_verify_passes(cli: Cli, database_url: str, tmp_path: Path) -> None:
    assert cli("advisories", "sync", str(_provider(tmp_path / "provider"))).code == 0
    assert cli("advisories", "import", "--quiet", str(DEMO_ADVISORIES)).code == 0
    inventory = tmp_path / "inventory.csv"
    assert cli("inventory", "generate", "--assets", "40", "--seed", "7", "--out", str(inventory)).code == 0
    assert cli("inventory", "import", "--quiet", str(inventory)).code == 0
    asset = json.loads(cli("inventory", "list", "--format", "json").stdout)[0]
    assert cli("inventory", "import-sbom", str(HBOM), "--asset", asset["asset_id"], "--site", asset["site"]).code == 0
    assert cli("match").code == 0
    possible = json.loads(cli("findings", "--match", "possible", "--format", "json").stdout)
    assert len(possible) >= 2
    assert cli("findings", "confirm", str(possible[0]["id"]), "--by", "j.doe", "--comment", "seen it").code == 0
    assert cli("findings", "reject", str(possible[1]["id"]), "--by", "j.doe").code == 0

    entries = _listed(cli)
    actions = {e["action"] for e in entries}
    assert actions == {
        "advisory.import",
        "advisory.sync",
        "inventory.import",
        "inventory.sbom",
        "match.run",
        "finding.review",
    }
    imports = [e for e in entries if e["action"] == "advisory.import"]
    assert len(imports) == 36 and all(e["site_id"] == 0 for e in imports)  # one per stored revision
    sync = next(e for e in entries if e["action"] == "advisory.sync")
    assert sync["detail"]["outcomes"] == {"imported": 1}
    sites = {e["site"] for e in entries if e["action"] == "inventory.import"}
    assert sites == {e["site"] for e in entries if e["action"] == "match.run"} and len(sites) > 1
    digest = hashlib.sha256(inventory.read_bytes()).hexdigest()
    assert {e["detail"]["sha256"] for e in entries if e["action"] == "inventory.import"} == {digest}
    sbom = next(e for e in entries if e["action"] == "inventory.sbom")
    assert (sbom["site"], sbom["subject"], sbom["detail"]["installed"]) == (asset["site"], asset["asset_id"], 5)
    reviews = [e for e in entries if e["action"] == "finding.review"]
    assert [(e["actor"], e["subject"], e["detail"]["review"]) for e in reviews] == [
        ("j.doe", str(possible[0]["id"]), "confirmed"),
        ("j.doe", str(possible[1]["id"]), "rejected"),
    ]
    assert reviews[0]["detail"]["comment"] == "seen it"

    # Filters.
    assert {e["action"] for e in _listed(cli, "--action", "finding.,advisory.sync")} == {
        "finding.review",
        "advisory.sync",
    }
    assert {e["site_id"] for e in _listed(cli, "--installation")} == {0}
    assert {e["site"] for e in _listed(cli, "--site", asset["site"])} == {asset["site"]}
    assert _listed(cli, "--limit", "2") == entries[-2:]
    assert _listed(cli, "--since", "2999-01-01") == []
    assert cli("audit", "list", "--site", "Nowhere").code == 2
    assert cli("audit", "list", "--since", "yesterday").code == 2

    # A dry run changes nothing, so it records nothing; the rejected input records nothing either.
    assert cli("inventory", "import", "--quiet", "--dry-run", str(inventory)).code == 0
    assert cli("findings", "confirm", str(possible[0]["id"] + 10**9), "--by", "j.doe").code != 0
    assert len(_listed(cli)) == len(entries)

    verified = cli("audit", "verify")
    assert verified.code == 0, verified.stdout
    assert verified.stdout.strip().startswith("audit trail intact:")

    # Anchor the heads, keep working, then check the saved heads are still part of the chains.
    anchor = tmp_path / "heads.txt"
    heads = cli("audit", "head")
    assert heads.code == 0 and heads.stdout.splitlines()[0].startswith("0 37 ")
    anchor.write_text(heads.stdout)
    assert cli("match", "--full").code == 0
    assert cli("audit", "verify", "--anchor", str(anchor)).code == 0
    json_anchor = tmp_path / "heads.json"
    json_anchor.write_text(cli("audit", "head", "--format", "json").stdout)
    assert cli("audit", "verify", "--anchor", str(json_anchor)).code == 0
    (tmp_path / "bad.txt").write_text("0 37 not-a-hash\n")
    bad = cli("audit", "verify", "--anchor", str(tmp_path / "bad.txt"))
    assert bad.code == 2 and "bad.txt: line 1: hash" in bad.stderr

    # Tampering behind vigil's back.
    store = open_store(load_settings(database_url), migrate=False)
    try:
        _edit(store, _entry(0, 5).values(detail={"status": "imported"}))
        site_id = sbom["site_id"]
        _edit(store, delete(t.AuditEntry).where(t.AuditEntry.site_id == site_id, t.AuditEntry.seq == 1))
    finally:
        store.close()
    broken = cli("audit", "verify")
    assert broken.code == 1
    lines = broken.stdout.splitlines()
    assert lines[0] == "(installation): seq 5: hash mismatch: entry edited"
    assert lines[1] == f"{sbom['site']}: seq 1: entry 1 missing (next is 2): deleted"
    assert lines[2].startswith("audit trail BROKEN (2 of ")
    report = json.loads(cli("audit", "verify", "--format", "json").stdout)
    assert report["intact"] is False
    assert {(c["site_id"], c["broken_seq"]) for c in report["chains"] if not c["intact"]} == {(0, 5), (site_id, 1)}
