"""Use case: match the current advisories against each site's inventory and keep its findings up to date.

Incremental by default: for each site, only revisions the site has not been matched against (new or revised
advisories) are evaluated, against the assets that carry one of their keys; and only assets written since
the last run are evaluated, against every current revision. `full` (or a changed alias table or matcher)
re-evaluates everything. A finding no longer supported is closed with the reason, never deleted; every
change lands in its history. Each site is one transaction: a crash leaves the site as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from vigil.identity.vendors import ManufacturerAliases, default_aliases
from vigil.identity.version_rules import NOTATIONS
from vigil.matching.candidates import CatalogIndex
from vigil.matching.compiled import CompiledRevision, compile_revision
from vigil.matching.engine import AssetMatcher
from vigil.matching.findings import FindingDraft
from vigil.services.audit import system_actor
from vigil.services.decisions import apply_site_decisions
from vigil.services.gc_pause import no_cyclic_gc
from vigil.services.match_reconcile import SiteChanges, reconcile
from vigil.services.match_scope import apply_scope
from vigil.services.response import expire_acceptances
from vigil.services.store import Store
from vigil.sources.inventory.assets import AssetRecord
from vigil.store import audit
from vigil.store.db import refresh_statistics, transaction
from vigil.store.findings import (
    forget_matched_revisions,
    load_findings,
    lock_site_for_matching,
    match_state,
    matched_revision_ids,
    record_matched_revisions,
    save_match_state,
)
from vigil.store.findings_queries import open_count, review_count
from vigil.store.ids import asset_change_counter, current
from vigil.store.inventory import all_sites
from vigil.store.matching_queries import (
    candidate_asset_ids,
    changed_asset_ids,
    current_headers,
    iter_assets,
    removed_asset_ids,
    revision_rows,
)
from vigil.store.revision_header import RevisionHeader

MATCHER_VERSION = "1"
"""Bumped whenever a rule change can alter findings: the next run of every site is then a full one."""


@dataclass
class SiteMatchReport:
    """What one run did to one site's findings."""

    site: str
    """Site name."""
    mode: str
    """`full` or `incremental`."""
    revisions: int = 0
    """Advisory revisions evaluated against the site."""
    assets: int = 0
    """Assets evaluated."""
    counts: Counter[str] = field(default_factory=Counter)
    """opened, changed, revised, reopened, closed, unchanged, superseded, prevailing."""
    open_findings: int | None = None
    """Open findings of the site after a full run (None after an incremental one: counting them all would cost
    more than the run)."""
    review_pending: int = 0
    """Open `possible` findings waiting for a person."""
    seconds: float = 0.0
    """Wall time of the site's run."""


@dataclass
class MatchReport:
    """What `vigil match` did."""

    sites: list[SiteMatchReport] = field(default_factory=list)
    """One entry per site matched."""
    compiled_revisions: int = 0
    """Revisions compiled into predicates during the run."""
    notations: Counter[str] | None = None
    """Leaves per version notation across every current revision (`--stats`)."""

    def total(self, key: str) -> int:
        return sum(site.counts[key] for site in self.sites)

    @property
    def line(self) -> str:
        """The summary line scripts read."""
        kinds = ("opened", "changed", "revised", "reopened", "closed", "unchanged")
        counts = ", ".join(f"{kind} {self.total(kind)}" for kind in kinds)
        review = sum(site.review_pending for site in self.sites)
        superseded = self.total("superseded")
        line = f"sites {len(self.sites)}: findings {counts}; review queue {review}; superseded {superseded}"
        # The response side, only when it did something (the line above is what scripts read).
        response = {
            "statuses reset": self.total("status_reset"),
            "decided": self.total("decided"),
            "risk acceptances expired": self.total("risk_expired"),
        }
        extra = ", ".join(f"{name} {count}" for name, count in response.items() if count)
        return f"{line}; {extra}" if extra else line


def matcher_fingerprint(aliases: ManufacturerAliases) -> str:
    return hashlib.sha256(f"{MATCHER_VERSION}|{aliases.fingerprint}".encode()).hexdigest()


class RevisionCompiler:
    """Compiles revisions from the store once per run, whatever the number of sites."""

    def __init__(self, aliases: ManufacturerAliases) -> None:
        self.aliases = aliases
        self._compiled: dict[int, CompiledRevision] = {}
        self._all_loaded = False
        self._index: tuple[tuple[int, ...], CatalogIndex] | None = None

    def compiled(
        self, session: Session, headers: Sequence[RevisionHeader], all_current: bool
    ) -> list[CompiledRevision]:
        missing = [h for h in headers if h.revision_id not in self._compiled]
        if missing:
            loads_all = all_current and not self._all_loaded
            for rows in revision_rows(session, missing, all_current=loads_all):
                self._compiled[rows.header.revision_id] = compile_revision(
                    rows.header,
                    rows.products,
                    rows.helpers,
                    rows.relationships,
                    rows.group_members,
                    rows.vulnerabilities,
                    rows.statuses,
                    self.aliases,
                )
            self._all_loaded = self._all_loaded or loads_all
        return [self._compiled[h.revision_id] for h in headers]

    def matcher(self, session: Session, headers: Sequence[RevisionHeader]) -> AssetMatcher:
        """An AssetMatcher over every current revision. The index is built once per run; the matcher's memos
        are per site, so they are freed between sites (sharing them saved no time and raised the peak)."""
        key = tuple(h.revision_id for h in headers)
        if self._index is None or self._index[0] != key:
            self._index = (key, CatalogIndex(self.compiled(session, headers, all_current=True)))
        return AssetMatcher(self._index[1])

    @property
    def count(self) -> int:
        return len(self._compiled)


def run_match(
    store: Store,
    full: bool = False,
    site_names: Sequence[str] | None = None,
    stats: bool = False,
    progress: Callable[[str], None] | None = None,
) -> MatchReport:
    """Match every site (or the named ones); see the module docstring."""
    aliases = default_aliases()
    compiler = RevisionCompiler(aliases)
    fingerprint = matcher_fingerprint(aliases)
    report = MatchReport()
    with store.sessions() as session:
        sites = all_sites(session)
    if site_names is not None:
        wanted = set(site_names)
        unknown = sorted(wanted - {name for _, name in sites})
        if unknown:
            raise LookupError(f"no site named {unknown[0]!r}")
        sites = [(sid, name) for sid, name in sites if name in wanted]
    for site_id, name in sites:
        with no_cyclic_gc():
            report.sites.append(_match_site(store, compiler, site_id, name, full, fingerprint))
        if progress is not None:
            progress(f"{name}: {report.sites[-1].mode}, {report.sites[-1].assets} assets")
    if report.sites:
        refresh_statistics(store.engine)
    if stats:
        with store.sessions() as session:
            headers = current_headers(session)
            report.notations = notation_counts(compiler.compiled(session, headers, all_current=True))
    report.compiled_revisions = compiler.count
    return report


def notation_counts(revisions: Iterable[CompiledRevision]) -> Counter[str]:
    """Version leaves per notation (a branch leaf with a version rule; full_product_names aside)."""
    counts: Counter[str] = Counter({notation: 0 for notation in NOTATIONS})
    for revision in revisions:
        for pred in revision.predicates.values():
            if pred.origin == "branch" and pred.version_rule is not None:
                counts[pred.version_rule.notation] += 1
    return counts


def _match_site(
    store: Store, compiler: RevisionCompiler, site_id: int, site: str, full: bool, fingerprint: str
) -> SiteMatchReport:
    started = time.perf_counter()
    now = datetime.now(UTC)
    with transaction(store.sessions) as session:
        lock_site_for_matching(session, site_id)
        state = match_state(session, site_id)
        change_seq = current(session, asset_change_counter(site_id))
        headers = current_headers(session)
        mode = "full" if full or state is None or state.fingerprint != fingerprint else "incremental"
        report = SiteMatchReport(site, mode)
        if mode == "full":
            changes = _full(session, compiler, site_id, headers, report)
            forget_matched_revisions(session, site_id)
            unmarked = headers
        else:
            assert state is not None
            done = matched_revision_ids(session, site_id)
            unmarked = [h for h in headers if h.revision_id not in done]
            changes = _incremental(session, compiler, site_id, headers, unmarked, state.asset_change_seq, report)
        reconcile(session, site_id, changes, headers, now, report.counts)
        vendor_headers = [h for h in headers if h.publisher_category == "vendor"]
        vendor_revisions = compiler.compiled(session, vendor_headers, all_current=False)
        apply_scope(session, site_id, vendor_revisions, headers, now, report.counts)
        # The response side of the run: risk acceptances that ran out reopen, decide-once rules reach the
        # devices that matched since they were made.
        report.counts["risk_expired"] += expire_acceptances(session, site_id, now)
        report.counts["decided"] += len(apply_site_decisions(session, site_id, now).applied)
        record_matched_revisions(session, site_id, [h.revision_id for h in unmarked], now)
        save_match_state(session, site_id, change_seq, fingerprint, now, exists=state is not None)
        report.review_pending = review_count(session, site_id)
        report.open_findings = open_count(session, site_id) if mode == "full" else None
        audit.append(session, site_id, system_actor(), "match.run", site, _audited(report), now)
    report.seconds = time.perf_counter() - started
    return report


def _audited(report: SiteMatchReport) -> dict[str, object]:
    """The site's `match.run` audit entry: what the run did to its findings."""
    return {
        "mode": report.mode,
        "revisions": report.revisions,
        "assets": report.assets,
        "counts": dict(sorted(report.counts.items())),
        "review_pending": report.review_pending,
        "open_findings": report.open_findings,
    }


def _full(
    session: Session,
    compiler: RevisionCompiler,
    site_id: int,
    headers: Sequence[RevisionHeader],
    report: SiteMatchReport,
) -> SiteChanges:
    drafts: dict[tuple[str, int, str], FindingDraft] = {}
    report.assets = len(_collect(compiler.matcher(session, headers), iter_assets(session, site_id), drafts))
    report.revisions = len(headers)
    existing = load_findings(session, site_id, light=True)
    return SiteChanges(drafts, existing, changed_assets=set(), everything=True)


def _collect(
    matcher: AssetMatcher, assets: Iterable[AssetRecord], drafts: dict[tuple[str, int, str], FindingDraft]
) -> set[str]:
    """Every asset's drafts into `drafts` by finding key; the ids of the assets evaluated."""
    evaluated: set[str] = set()
    for asset in assets:
        evaluated.add(asset.asset_id)
        for draft in matcher.drafts(asset):
            drafts[(draft.asset_id, draft.advisory_id, draft.vulnerability_key)] = draft
    return evaluated


def _incremental(
    session: Session,
    compiler: RevisionCompiler,
    site_id: int,
    headers: Sequence[RevisionHeader],
    new_headers: Sequence[RevisionHeader],
    since: int,
    report: SiteMatchReport,
) -> SiteChanges:
    changed = set(changed_asset_ids(session, site_id, since))
    removed = removed_asset_ids(session, site_id, since)
    drafts: dict[tuple[str, int, str], FindingDraft] = {}
    evaluated: set[str] = set()
    if changed:
        evaluated |= _collect(
            compiler.matcher(session, headers), iter_assets(session, site_id, sorted(changed)), drafts
        )
    if new_headers:
        index = CatalogIndex(compiler.compiled(session, new_headers, all_current=False))
        keys = index.lookup_keys()
        candidates = candidate_asset_ids(
            session, site_id, keys.names, keys.families, keys.packages, keys.identifiers, keys.wildcards
        )
        evaluated |= _collect(AssetMatcher(index), iter_assets(session, site_id, sorted(candidates - changed)), drafts)
    report.assets = len(evaluated)
    report.revisions = len(new_headers) if not changed else len(headers)
    new_advisories = {h.advisory_id for h in new_headers}
    existing = load_findings(
        session, site_id, advisory_ids=sorted(new_advisories), asset_ids=sorted(changed | removed), light=True
    )
    return SiteChanges(drafts, existing, changed_assets=changed, new_advisories=new_advisories, removed_assets=removed)
