"""/api/v1/findings on both databases: filters, keyset pages, show with history, status changes under
ETag/If-Match and expect_version, bulk changes, reviews; problem+json for every refusal."""

from __future__ import annotations

from typing import Any

from api_world import CVE, NORTH, SOUTH, World

pytest_plugins = ("api_world",)  # the world and fresh_world fixtures

MITIGATE = {"status": "mitigated", "evidence": [{"kind": "text", "value": "IPMI password changed"}]}


def _problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    if field is not None:
        assert field in body["detail"] and any(e["field"] == field for e in body["errors"]), body
    return body


def test_list_filters_as_the_cli_does(world: World) -> None:
    north = world.findings(NORTH, cve=CVE)
    assert {f["site"] for f in north} == {NORTH}
    assert {f["asset_id"] for f in north} >= {"N-A1", "N-A2", "N-A3"}
    exact = world.findings(NORTH, match="exact")
    assert exact and {f["match"] for f in exact} == {"exact"}
    both = world.findings(NORTH, match=["exact", "possible"], superseded="true")
    assert {f["match"] for f in both} == {"exact", "possible"}
    pending = world.findings(NORTH, review="pending", superseded="true")  # the vendor's document prevails
    assert pending and {f["asset_id"] for f in pending} >= {"N-P1"}
    one = world.findings(NORTH, asset_id="N-A1", advisory="PHILIPS-2021-01-14-IPMI")
    assert {f["asset_id"] for f in one} == {"N-A1"} and {f["advisory_id"] for f in one} == {"PHILIPS-2021-01-14-IPMI"}
    superseded = world.findings(NORTH, superseded="true")
    assert len(superseded) > len(world.findings(NORTH))
    every = world.get("admin", "/api/v1/findings", params={"limit": 500}).json()["items"]
    assert {f["site"] for f in every} == {NORTH, SOUTH}


def test_pages_walk_every_finding_once_in_key_order(world: World) -> None:
    everything = world.get("admin", "/api/v1/findings", params={"limit": 500, "superseded": "true"}).json()
    assert everything["next_cursor"] is None
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "superseded": "true", **({"cursor": cursor} if cursor else {})}
        response = world.get("admin", "/api/v1/findings", params=params)
        page = response.json()
        assert len(page["items"]) <= 3
        seen += [f["id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
    assert seen == [f["id"] for f in everything["items"]]
    assert len(seen) == len(set(seen)) > 6


def test_bad_filters_and_cursors_are_problems_naming_the_parameter(world: World) -> None:
    _problem(world.get("admin", "/api/v1/findings", params={"status": "broken"}), 422, "query.status.0")
    _problem(world.get("admin", "/api/v1/findings", params={"limit": 501}), 422, "query.limit")
    _problem(world.get("admin", "/api/v1/findings", params={"cursor": "!!!"}), 422, "query.cursor")
    _problem(world.get("admin", "/api/v1/findings", params={"cursor": "WzEsIngiXQ"}), 422, "query.cursor")
    _problem(world.get("admin", "/api/v1/findings", params={"advisory": "NOPE-1"}), 422, "query.advisory")
    body = _problem(world.get("admin", "/api/v1/findings", params={"site": "Nowhere"}), 404)
    assert "Nowhere" in body["detail"]


def test_show_has_evidence_history_and_an_etag(world: World) -> None:
    finding = world.finding(NORTH, "N-A1")
    response = world.get("admin", f"/api/v1/findings/{finding['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["evidence"]["products"] and body["history"][0]["kind"] == "opened"
    assert response.headers["etag"] == f'"v{body["response_version"]}"'
    _problem(world.get("admin", "/api/v1/findings/999999999"), 404)


def test_status_change_with_if_match_and_a_stale_writer(fresh_world: World) -> None:
    w = fresh_world
    finding = w.finding(NORTH, "N-A1")
    url = f"/api/v1/findings/{finding['id']}"
    tag = w.get("analyst-north", url).headers["etag"]
    changed = w.post("technician-north", f"{url}/status", json=MITIGATE, headers={"If-Match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["response_status"] == "mitigated"
    assert changed.headers["etag"] != tag
    history = changed.json()["history"][-1]
    assert history["actor"] == "technician-north" and history["detail"]["to"] == "mitigated"
    stale = w.post("analyst-north", f"{url}/status", json={"status": "affected"}, headers={"If-Match": tag})
    assert "changed since version 1" in _problem(stale, 412)["detail"]
    stale_body = w.post("analyst-north", f"{url}/status", json={"status": "affected", "expect_version": 1})
    _problem(stale_body, 409)
    _problem(w.post("analyst-north", f"{url}/status", json=MITIGATE, headers={"If-Match": 'W/"v2"'}), 422)
    fresh = w.post("analyst-north", f"{url}/status", json={"status": "affected"}, headers={"If-Match": '"v2"'})
    assert fresh.status_code == 200 and fresh.json()["response_version"] == 3


def test_the_life_cycle_refuses_with_the_reason(fresh_world: World) -> None:
    w = fresh_world
    finding = w.finding(NORTH, "N-A1")
    url = f"/api/v1/findings/{finding['id']}/status"
    body = _problem(w.post("analyst-north", url, json={"status": "mitigated"}), 422)
    assert "mitigated needs evidence" in body["detail"]
    _problem(w.post("analyst-north", url, json={"status": "bogus"}), 422, "body.status")
    risk = {"status": "risk_accepted", "owner": "Dr. O", "reason": "isolated VLAN", "expires_at": "2030-01-01"}
    assert w.post("analyst-north", url, json=risk).json()["risk_expires_at"].startswith("2030-01-01")
    nul = w.post("analyst-north", url, json={**MITIGATE, "comment": "a\u0000b"})
    _problem(nul, 422, "body.comment")


def test_bulk_status_applies_what_it_may_and_lists_the_rest(fresh_world: World) -> None:
    w = fresh_world
    a1, a2 = w.finding(NORTH, "N-A1"), w.finding(NORTH, "N-A2")
    pending = w.findings(NORTH, review="pending", superseded="true")[0]
    south = w.finding(SOUTH, "S-A1")
    body = {
        **MITIGATE,
        "finding_ids": [a1["id"], a2["id"], pending["id"], south["id"], 987654321],
        "expect_versions": {str(a2["id"]): 7},
    }
    response = w.post("analyst-north", "/api/v1/findings/bulk-status", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [a["finding_id"] for a in result["applied"]] == [a1["id"]]
    reasons = {r["finding_id"]: r["reason"] for r in result["refused"]}
    assert "changed since version 7" in reasons[a2["id"]]
    assert "confirm it first" in reasons[pending["id"]]
    assert reasons[south["id"]] == f"no finding {south['id']}"  # another site: not even its existence
    assert w.finding(SOUTH, "S-A1")["response_status"] == "affected"
    too_many = w.post("analyst-north", "/api/v1/findings/bulk-status", json={**MITIGATE, "finding_ids": [1] * 1001})
    _problem(too_many, 422, "body.finding_ids")


def test_review_confirms_a_possible_match(fresh_world: World) -> None:
    w = fresh_world
    pending = next(f for f in w.findings(NORTH, review="pending", superseded="true") if f["asset_id"] == "N-P1")
    url = f"/api/v1/findings/{pending['id']}/review"
    confirmed = w.post("analyst-north", url, json={"decision": "confirmed", "comment": "it is a Workspot"})
    assert confirmed.status_code == 200 and confirmed.json()["review"] == "confirmed"
    exact = w.finding(NORTH, "N-A1")
    body = _problem(
        w.post("analyst-north", f"/api/v1/findings/{exact['id']}/review", json={"decision": "rejected"}), 422
    )
    assert "only possible matches are reviewed" in body["detail"]
    _problem(w.post("technician-north", url, json={"decision": "rejected"}), 403)
