"""Every other /api/v1 resource on both databases: advisories, sites and assets, uploads and jobs, decisions,
actions, priorities, VEX and report exports, the audit trail; /healthz, /openapi.json, /docs, headers, limits."""

from __future__ import annotations

import json
from typing import Any

from api_world import CISA, CVE, NORTH, SOUTH, UPLOAD_LIMIT, World
from test_api_findings import MITIGATE, _problem

pytest_plugins = ("api_world",)  # the world and fresh_world fixtures


def _job(w: World, user: str, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    w.client.app.state.jobs.wait(response.json()["id"], 60)  # type: ignore[attr-defined]
    job = w.get(user, location)
    assert job.status_code == 200
    body: dict[str, Any] = job.json()
    return body


def test_health_openapi_docs_and_security_headers(world: World) -> None:
    health = world.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = world.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/api/v1/findings" in spec["paths"]
    docs = world.client.get("/docs")
    assert docs.status_code == 200 and "/api-docs/swagger-ui-bundle.js" in docs.text and "<script>" not in docs.text
    assert world.client.get("/api-docs/swagger-ui-bundle.js").status_code == 200
    csp = health.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    api = world.get("viewer-north", "/api/v1/sites")
    assert api.headers["x-content-type-options"] == "nosniff" and api.headers["cache-control"] == "no-store"


def test_advisories_list_and_show(world: World) -> None:
    page = world.get("viewer-north", "/api/v1/advisories", params={"limit": 1})
    assert page.status_code == 200 and len(page.json()["items"]) == 1 and page.json()["next_cursor"]
    second = world.get("viewer-north", "/api/v1/advisories", params={"limit": 1, "cursor": page.json()["next_cursor"]})
    ids = {page.json()["items"][0]["tracking_id"], second.json()["items"][0]["tracking_id"]}
    assert ids == {"ICSMA-21-019-01", "PHILIPS-2021-01-14-IPMI"} and second.json()["next_cursor"] is None
    assert [
        a["tracking_id"] for a in world.get("admin", "/api/v1/advisories", params={"publisher": "Phil"}).json()["items"]
    ] == ["PHILIPS-2021-01-14-IPMI"]
    shown = world.get("viewer-north", "/api/v1/advisories/ICSMA-21-019-01").json()
    assert shown["vulnerabilities"][0]["cve"] == CVE and shown["products"]
    _problem(world.get("viewer-north", "/api/v1/advisories/NOPE-00"), 404)


def test_sites_assets_and_one_device(world: World) -> None:
    assert [s["name"] for s in world.get("technician-north", "/api/v1/sites").json()] == [NORTH]
    north = world.get("viewer-north", "/api/v1/assets", params={"limit": 500}).json()["items"]
    assert {a["site"] for a in north} == {NORTH} and len(north) == 6
    page = world.get("admin", "/api/v1/assets", params={"limit": 4}).json()
    rest = world.get("admin", "/api/v1/assets", params={"limit": 500, "cursor": page["next_cursor"]}).json()
    assert len(page["items"]) + len(rest["items"]) == 12
    filtered = world.get("admin", "/api/v1/assets", params={"model_number": "459800939471"}).json()["items"]
    assert {a["asset_id"] for a in filtered} == {"N-A1", "S-A1"}
    device = world.get("viewer-north", "/api/v1/assets/N-A1").json()
    assert device["installed_products"][0]["name"] == "Interventional Workspot" and device["sbom"] is None
    assert world.get("viewer-north", "/api/v1/assets/SHARED").json()["site"] == NORTH  # South is not theirs
    _problem(world.get("admin", "/api/v1/assets/SHARED"), 409)
    assert world.get("admin", "/api/v1/assets/SHARED", params={"site": SOUTH}).json()["site"] == SOUTH
    _problem(world.get("viewer-north", "/api/v1/assets/S-A1"), 404)


def test_inventory_upload_runs_as_a_job_with_progress(fresh_world: World) -> None:
    w = fresh_world
    csv = "asset_id,manufacturer,model\nN-NEW1,Philips,IntelliVue MX40\nN-NEW2,GE,Carescape\n,GE,no id\n"
    response = w.post("analyst-north", "/api/v1/assets/import", params={"site": NORTH}, content=csv.encode())
    job = _job(w, "analyst-north", response)
    assert job["state"] == "succeeded", job
    assert job["result"]["added"] == 2 and job["result"]["rejected"] == 1 and job["progress"]["rows"] == 3
    assert w.get("viewer-north", "/api/v1/assets/N-NEW1").status_code == 200
    # A row naming another site is refused whole: an upload into North writes North only.
    other = "asset_id,site,manufacturer,model\nX1,South <Clinic>,GE,Carescape\n"
    sneaky = _job(
        w, "analyst-north", w.post("analyst-north", "/api/v1/assets/import", params={"site": NORTH}, content=other)
    )
    assert sneaky["state"] == "failed" and "names site 'South <Clinic>'" in sneaky["error"]
    assert w.get("admin", "/api/v1/assets/X1").status_code == 404
    _problem(w.post("analyst-north", "/api/v1/assets/import", content=csv.encode()), 422, "query.site")
    _problem(w.post("analyst-north", "/api/v1/assets/import", params={"site": SOUTH}, content=csv.encode()), 404)
    _problem(w.post("viewer-north", "/api/v1/assets/import", params={"site": NORTH}, content=csv.encode()), 403)
    big = b"asset_id\n" + b"x" * (UPLOAD_LIMIT + 1)
    _problem(w.post("analyst-north", "/api/v1/assets/import", params={"site": NORTH}, content=big), 413)
    chunks = (b"y" * 1024 for _ in range(UPLOAD_LIMIT // 1024 + 2))  # no Content-Length: refused while streaming
    _problem(w.post("analyst-north", "/api/v1/assets/import", params={"site": NORTH}, content=chunks), 413)
    _problem(
        w.post("analyst-north", "/api/v1/assets/import", params={"site": NORTH, "filename": "x.exe"}, content=csv),
        422,
        "query.filename",
    )
    assert w.get("admin", f"/api/v1/jobs/{job['id']}").status_code == 200  # admins see every job
    assert w.get("analyst-all", f"/api/v1/jobs/{job['id']}").status_code == 404  # others do not
    mine = w.get("analyst-north", "/api/v1/jobs").json()["items"]
    assert {j["id"] for j in mine} >= {job["id"], sneaky["id"]}


def test_advisory_upload_and_match_jobs(fresh_world: World) -> None:
    w = fresh_world
    document = json.loads(CISA.read_text(encoding="utf-8"))
    document["document"]["tracking"]["id"] = "TEST-API-0001"
    upload = w.post("analyst-all", "/api/v1/advisories", params={"filename": "t.json"}, json=document)
    job = _job(w, "analyst-all", upload)
    assert job["state"] == "succeeded" and job["result"]["outcomes"][0]["status"] == "imported", job
    assert w.get("viewer-north", "/api/v1/advisories/TEST-API-0001").status_code == 200
    broken = _job(w, "analyst-all", w.post("analyst-all", "/api/v1/advisories", content=b"{not json"))
    assert broken["result"]["outcomes"][0]["status"] == "rejected"
    matched = _job(w, "analyst-north", w.post("analyst-north", "/api/v1/match", json={"site": NORTH}))
    assert (matched["state"] == "succeeded" and NORTH in matched["result"]["line"]) or matched["result"]["line"]
    assert [f for f in w.findings(NORTH, advisory="TEST-API-0001", superseded="true")]
    assert not w.findings(SOUTH, advisory="TEST-API-0001", superseded="true")  # only North was matched
    _problem(w.post("analyst-all", "/api/v1/advisories/sync", json={"source": "/etc"}), 422, "body.source")
    _problem(w.post("technician-north", "/api/v1/advisories", json=document), 403)


def test_decisions_add_list_revoke(fresh_world: World) -> None:
    w = fresh_world
    body = {
        "site": NORTH,
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        "cve": CVE,
        "manufacturer": "Philips",
        "model": "Allura Xper FD10 workstation",
    }
    added = w.post("analyst-north", "/api/v1/decisions", json=body)
    assert added.status_code == 201, added.text
    decision = added.json()["decision"]
    assert added.json()["result"]["applied"] >= 2 and decision["actor"] == "analyst-north"
    assert w.finding(NORTH, "N-A2")["response_status"] == "not_affected"
    listed = w.get("viewer-north", "/api/v1/decisions").json()["items"]
    assert [d["id"] for d in listed] == [decision["id"]]
    _problem(w.post("analyst-north", "/api/v1/decisions", json={**body, "advisory": "X"}), 422)
    _problem(w.post("analyst-north", "/api/v1/decisions", json={**body, "site": SOUTH}), 404)
    revoked = w.post("analyst-north", f"/api/v1/decisions/{decision['id']}/revoke", json={"site": NORTH})
    assert revoked.status_code == 200 and revoked.json()["reset"] >= 2
    again = w.post("analyst-north", f"/api/v1/decisions/{decision['id']}/revoke", json={"site": NORTH})
    _problem(again, 409)
    _problem(w.post("analyst-north", "/api/v1/decisions/99999/revoke", json={"site": NORTH}), 404)


def test_actions_list_assign_complete(fresh_world: World) -> None:
    w = fresh_world
    items = w.get("technician-north", "/api/v1/actions", params={"site": NORTH, "limit": 500}).json()["items"]
    assert items and {i["site"] for i in items} == {NORTH}
    item = next(i for i in items if i["asset_id"] == "N-A1" and i["category"] in ("mitigation", "workaround"))
    url = f"/api/v1/actions/{item['id']}"
    assigned = w.post("technician-north", f"{url}/assign", json={"site": NORTH, "assignee": "technician-north"})
    assert assigned.status_code == 200 and assigned.json()["assignee"] == "technician-north"
    done = w.post("technician-north", f"{url}/complete", json={"site": NORTH, "evidence": "password rotated"})
    assert done.status_code == 200, done.text
    assert done.json()["action"]["state"] == "done" and done.json()["findings"]
    _problem(w.post("technician-north", f"{url}/complete", json={"site": NORTH, "evidence": "again"}), 409)
    assert w.get("viewer-north", url, params={"site": NORTH}).json()["state"] == "done"
    _problem(w.get("viewer-north", url, params={"site": SOUTH}), 404)
    summary = w.get("viewer-north", "/api/v1/actions/summary", params={"site": NORTH}).json()
    assert summary[-1]["advisory"] == "*" and summary[-1]["done"] == 1
    _problem(w.post("viewer-north", f"{url}/assign", json={"site": NORTH, "assignee": "x"}), 403)


def test_priorities_are_ranked_and_paged(world: World) -> None:
    rows = world.get("viewer-north", "/api/v1/priorities", params={"limit": 500}).json()["items"]
    assert rows and {r["site"] for r in rows} == {NORTH}
    assert all(r["outcome"] in ("defer", "scheduled", "out_of_cycle", "immediate") for r in rows)
    first = world.get("admin", "/api/v1/priorities", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    _problem(world.get("admin", "/api/v1/priorities", params={"outcome": "soon"}), 422, "query.outcome")


def test_exports_download_vex_and_reports(world: World) -> None:
    vex = world.post("viewer-north", "/api/v1/exports/vex", json={"site": NORTH, "format": "openvex"})
    assert vex.status_code == 200 and "attachment" in vex.headers["content-disposition"]
    assert vex.json()["statements"]
    cdx = world.post("viewer-north", "/api/v1/exports/vex", json={"site": NORTH, "format": "cyclonedx"})
    assert cdx.headers["content-type"].startswith("application/vnd.cyclonedx+json")
    report = world.post("viewer-north", "/api/v1/exports/report", json={"site": SOUTH.replace("South", "North")})
    _problem(report, 404)  # "North <Clinic>" does not exist
    html = world.post("viewer-north", "/api/v1/exports/report", json={"site": NORTH, "format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "attachment" in html.headers["content-disposition"] and b"<html" in html.content.lower()
    csv = world.post("viewer-north", "/api/v1/exports/report", json={"site": NORTH, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    _problem(world.post("viewer-north", "/api/v1/exports/vex", json={"site": SOUTH}), 404)
    _problem(world.post("technician-north", "/api/v1/exports/vex", json={"site": NORTH}), 403)


def test_audit_pages_and_verify(fresh_world: World) -> None:
    w = fresh_world
    finding = w.finding(NORTH, "N-A1")
    w.post("analyst-north", f"/api/v1/findings/{finding['id']}/status", json=MITIGATE)
    entries = w.get("viewer-north", "/api/v1/audit", params={"limit": 500}).json()["items"]
    assert entries and {e["site"] for e in entries} == {NORTH}  # no installation chain, no South
    assert entries[0]["action"] == "finding.status" and entries[0]["actor"] == "analyst-north"
    only = w.get("viewer-north", "/api/v1/audit", params={"action": "inventory."}).json()["items"]
    assert only and {e["action"] for e in only} == {"inventory.import"}
    page = w.get("admin", "/api/v1/audit", params={"limit": 2}).json()
    rest = w.get("admin", "/api/v1/audit", params={"limit": 500, "cursor": page["next_cursor"]}).json()["items"]
    every = w.get("admin", "/api/v1/audit", params={"limit": 500}).json()["items"]
    assert page["items"] + rest == every and {e["site"] for e in every} >= {None, NORTH, SOUTH}
    _problem(w.get("viewer-north", "/api/v1/audit", params={"installation": "true"}), 404)
    _problem(w.get("technician-north", "/api/v1/audit"), 403)
    assert w.get("admin", "/api/v1/audit/verify").json()["intact"] is True
    assert w.get("viewer-north", "/api/v1/audit/verify", params={"site": NORTH}).json()["intact"] is True
    _problem(w.get("viewer-north", "/api/v1/audit/verify"), 422, "query.site")


def test_errors_are_problem_json_and_never_html(world: World) -> None:
    _problem(world.client.get("/api/v1/findings"), 401)
    bad = world.client.get("/api/v1/findings", headers={"Authorization": "Bearer nope"})
    assert _problem(bad, 401) and bad.headers["www-authenticate"].startswith("Bearer")
    missing = world.get("admin", "/api/v1/<script>alert(1)</script>")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    _problem(world.get("admin", "/api/v1/findings", params={"cve": "a\u0000b"}), 422)
    too_big = world.post("admin", "/api/v1/findings/bulk-status", content=b"x" * (1024 * 1024 + 1))
    _problem(too_big, 413)
    _problem(
        world.post("admin", "/api/v1/findings/bulk-status", content=b"{", headers={"content-type": "application/json"}),
        422,
    )


def test_a_body_without_length_is_cut_off_at_the_limit(world: World) -> None:
    chunks = (b" " * 65536 for _ in range(20))  # 1.25 MiB of JSON whitespace, sent without Content-Length
    response = world.post(
        "admin", "/api/v1/findings/bulk-status", content=chunks, headers={"content-type": "application/json"}
    )
    _problem(response, 413)
