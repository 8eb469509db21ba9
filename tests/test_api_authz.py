"""The authorisation matrix: every endpoint x role x site (own / other) -> allowed, 403 or 404, on both
databases. A role without the permission gets 403 whatever the site; a site the user may not see answers 404
as if it did not exist; and nothing of the other site changes, whatever was asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from api_world import NORTH, SOUTH, World
from vigil.services import access

pytest_plugins = ("api_world",)  # the world and fresh_world fixtures

MITIGATE = {"status": "mitigated", "evidence": [{"kind": "text", "value": "checked"}]}
USERS = {
    "admin": "admin",
    "analyst-north": "analyst",
    "technician-north": "technician",
    "viewer-north": "viewer",
    "nobody": "analyst",  # no site granted
}


@dataclass(frozen=True)
class Call:
    """One endpoint, filled in for one site."""

    name: str
    permission: str
    method: str
    url: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    site_scoped: bool = True


def _ids(w: World, site: str) -> dict[str, Any]:
    """Ids of one site's things, read as admin before anyone acts."""
    prefix = "N" if site == NORTH else "S"
    by_asset = {f["asset_id"]: f for f in w.findings(site)}
    pending = next(f for f in w.findings(site, review="pending", superseded="true") if f["asset_id"] == f"{prefix}-P1")
    items = w.get("admin", "/api/v1/actions", params={"site": site, "limit": 500}).json()["items"]
    decision = w.post(
        "admin",
        "/api/v1/decisions",
        json={
            "site": site,
            "status": "not_affected",
            "justification": "component_not_present",
            "advisory": "PHILIPS-2021-01-14-IPMI",
            "manufacturer": "Philips",
            "model": "No Such Model",
        },
    ).json()["decision"]
    return {
        "prefix": prefix,
        "status": by_asset[f"{prefix}-A1"]["id"],
        "bulk": by_asset[f"{prefix}-A2"]["id"],
        "pending": pending["id"],
        "assign": items[0]["id"],
        "complete": items[1]["id"],
        "decision": decision["id"],
    }


def _calls(site: str, ids: dict[str, Any]) -> list[Call]:
    p = ids["prefix"]
    csv = f"asset_id,manufacturer,model\n{p}-NEW,GE,Carescape\n".encode()
    decision = {
        "site": site,
        "status": "not_affected",
        "justification": "component_not_present",
        "cve": "CVE-2020-27298",
        "manufacturer": "Philips",
        "model": "Allura Xper FD10 workstation",
    }
    return [
        Call("findings.list", access.READ, "GET", "/api/v1/findings", {"site": site}),
        Call("findings.show", access.READ, "GET", f"/api/v1/findings/{ids['status']}"),
        Call("assets.list", access.READ, "GET", "/api/v1/assets", {"site": site}),
        Call("assets.show", access.READ, "GET", f"/api/v1/assets/{p}-A1"),
        Call("decisions.list", access.READ, "GET", "/api/v1/decisions", {"site": site}),
        Call("actions.list", access.READ, "GET", "/api/v1/actions", {"site": site}),
        Call("actions.summary", access.READ, "GET", "/api/v1/actions/summary", {"site": site}),
        Call("actions.show", access.READ, "GET", f"/api/v1/actions/{ids['assign']}", {"site": site}),
        Call("priorities", access.READ, "GET", "/api/v1/priorities", {"site": site}),
        Call("audit.list", access.AUDIT_READ, "GET", "/api/v1/audit", {"site": site}),
        Call("audit.verify", access.AUDIT_READ, "GET", "/api/v1/audit/verify", {"site": site}),
        Call(
            "findings.status", access.FINDINGS_STATUS, "POST", f"/api/v1/findings/{ids['status']}/status", json=MITIGATE
        ),
        Call(
            "findings.review",
            access.FINDINGS_REVIEW,
            "POST",
            f"/api/v1/findings/{ids['pending']}/review",
            json={"decision": "confirmed"},
        ),
        Call("decisions.add", access.DECISIONS_WRITE, "POST", "/api/v1/decisions", json=decision),
        Call(
            "decisions.revoke",
            access.DECISIONS_WRITE,
            "POST",
            f"/api/v1/decisions/{ids['decision']}/revoke",
            json={"site": site},
        ),
        Call(
            "actions.assign",
            access.ACTIONS_COMPLETE,
            "POST",
            f"/api/v1/actions/{ids['assign']}/assign",
            json={"site": site, "assignee": "x"},
        ),
        Call(
            "actions.complete",
            access.ACTIONS_COMPLETE,
            "POST",
            f"/api/v1/actions/{ids['complete']}/complete",
            json={"site": site, "evidence": "done"},
        ),
        Call("exports.vex", access.EXPORTS, "POST", "/api/v1/exports/vex", json={"site": site}),
        Call("exports.report", access.EXPORTS, "POST", "/api/v1/exports/report", json={"site": site, "format": "csv"}),
        Call("assets.import", access.INVENTORY_IMPORT, "POST", "/api/v1/assets/import", {"site": site}, content=csv),
        Call("match", access.INVENTORY_IMPORT, "POST", "/api/v1/match", json={"site": site}),
    ]


GLOBAL_CALLS = [
    Call("sites", access.READ, "GET", "/api/v1/sites", site_scoped=False),
    Call("advisories.list", access.READ, "GET", "/api/v1/advisories", site_scoped=False),
    Call("advisories.show", access.READ, "GET", "/api/v1/advisories/ICSMA-21-019-01", site_scoped=False),
    Call("jobs.list", access.READ, "GET", "/api/v1/jobs", site_scoped=False),
    Call("advisories.upload", access.ADVISORIES_IMPORT, "POST", "/api/v1/advisories", content=b"{}", site_scoped=False),
    Call(
        "advisories.sync",
        access.ADVISORIES_IMPORT,
        "POST",
        "/api/v1/advisories/sync",
        json={"source": "http://127.0.0.1:9/provider-metadata.json"},  # nothing listens: the job fails, locally
        site_scoped=False,
    ),
]


def _send(w: World, user: str, call: Call) -> Any:
    return w.client.request(
        call.method, call.url, params=call.params, json=call.json, content=call.content, headers=w.as_user(user)
    )


def _state_of(w: World, site: str) -> list[tuple[Any, ...]]:
    """What a write to the site could change: statuses, reviews, decisions, items, assets (read as admin)."""
    findings = [(f["id"], f["response_version"], f["review"]) for f in w.findings(site, superseded="true")]
    decisions = [
        (d["id"], d["revoked_at"])
        for d in w.get("admin", "/api/v1/decisions", params={"site": site, "revoked": "true"}).json()["items"]
    ]
    items = [
        (i["id"], i["state"], i["assignee"])
        for i in w.get(
            "admin", "/api/v1/actions", params={"site": site, "state": ["open", "done", "void"], "limit": 500}
        ).json()["items"]
    ]
    assets = [
        a["asset_id"] for a in w.get("admin", "/api/v1/assets", params={"site": site, "limit": 500}).json()["items"]
    ]
    return [*findings, *decisions, *items, *assets]


@pytest.mark.parametrize("user", sorted(USERS))
def test_every_endpoint_for_every_role_and_site(fresh_world: World, user: str) -> None:
    w = fresh_world
    role = USERS[user]
    ids = {site: _ids(w, site) for site in (NORTH, SOUTH)}
    sees = {NORTH: user != "nobody", SOUTH: user == "admin"}
    before = {site: _state_of(w, site) for site in (NORTH, SOUTH) if not sees[site]}
    outcomes: list[str] = []
    for site in (NORTH, SOUTH):
        for call in _calls(site, ids[site]):
            response = _send(w, user, call)
            if not access.can(role, call.permission):
                expected = "403"
            elif not sees[site]:
                expected = "404"
            else:
                expected = "allowed"
            got = "allowed" if response.status_code < 300 else str(response.status_code)
            if got != expected:
                outcomes.append(
                    f"{call.name} @ {site}: expected {expected}, got {response.status_code} {response.text[:200]}"
                )
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
    for call in GLOBAL_CALLS:
        response = _send(w, user, call)
        expected = "allowed" if access.can(role, call.permission) else "403"
        got = "allowed" if response.status_code < 300 else str(response.status_code)
        if got != expected:
            outcomes.append(f"{call.name}: expected {expected}, got {response.status_code} {response.text[:200]}")
    assert not outcomes, "\n".join(outcomes)
    for site, state in before.items():
        assert _state_of(w, site) == state, f"{user} changed {site}, which they may not see"


def test_bulk_changes_skip_findings_of_sites_not_granted(fresh_world: World) -> None:
    w = fresh_world
    south = w.finding(SOUTH, "S-A1")
    response = w.post("analyst-north", "/api/v1/findings/bulk-status", json={**MITIGATE, "finding_ids": [south["id"]]})
    assert response.status_code == 200
    assert response.json() == {
        "applied": [],
        "refused": [{"finding_id": south["id"], "reason": f"no finding {south['id']}"}],
    }
    assert w.finding(SOUTH, "S-A1")["response_version"] == south["response_version"]


def test_jobs_are_their_owners(fresh_world: World) -> None:
    w = fresh_world
    started = w.post("analyst-north", "/api/v1/match", json={"site": NORTH})
    job_id = started.json()["id"]
    assert w.get("analyst-north", f"/api/v1/jobs/{job_id}").status_code == 200
    for other in ("technician-north", "viewer-north", "analyst-all", "nobody"):
        assert w.get(other, f"/api/v1/jobs/{job_id}").status_code == 404
