"""A source that asks the gateway to mirror what it harvests ("mirror new S1 GRD over an area")."""

from __future__ import annotations

from pathlib import Path

from everest_elearn.catalogue.service import Catalogue
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.settings import GatewaySettings, Settings
from tests.fixtures.provider import Provider
from tests.harvest.conftest import SAFE, AgentFactory, product_ids
from tests.harvest.servers import archive_tree

S1A = "S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB"

RULES = """
sources:
  - name: archive
    url: {url}/open/
rules:
  - name: sentinel-1 from the archive
    match: {{provider: archive}}
    strategy: redirect
    allow: [mirror]
"""

SOURCES = """\
sources:
  - name: s1-area
    kind: local
    url: {tree}
    into: s1
    base_url: {url}/open/
    product_type: GRD
    area: [8.0, 48.0, 13.0, 51.0]
    mirror: true
"""


async def test_new_products_are_mirrored_through_the_gateway(
    tmp_path: Path, provider: Provider, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    tree = archive_tree(provider.root, copy=True)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(url=provider.url))
    settings = Settings(data_dir=tmp_path / "gw", gateway=GatewaySettings(rules_file=rules))
    gateway = build_gateway(settings, {}, lookup=catalogue)
    await gateway.start()
    try:
        agent = make_agent(SOURCES.format(tree=tree, url=provider.url), mirror=gateway)
        report = await agent.run("s1-area")
        assert report.state == "ok", report.error
        # both GRD scenes lie over the area; the GeoTIFFs are no GRD products (filtered, not refused)
        assert report.created == 2 and report.mirrored == 2 and not report.mirror_errors
        key = f"mirror/s1/{S1A}/{S1A}.zip"
        stored = await gateway.store.stat(key)
        assert stored is not None and stored.size == (SAFE / f"{S1A}.zip").stat().st_size
        assert provider.gets(f"/open/S1/GRD/2015/02/{S1A}.zip") == 1
        # a second run mirrors nothing again
        again = await agent.run("s1-area")
        assert again.mirrored == 0 and provider.gets(f"/open/S1/GRD/2015/02/{S1A}.zip") == 1
        assert len(await product_ids(catalogue, "s1")) == 2
    finally:
        await gateway.close()


async def test_a_rule_that_forbids_mirroring_is_reported_not_fatal(
    tmp_path: Path, provider: Provider, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    tree = archive_tree(provider.root, copy=True)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(url=provider.url).replace("    allow: [mirror]\n", ""))
    settings = Settings(data_dir=tmp_path / "gw", gateway=GatewaySettings(rules_file=rules))
    gateway = build_gateway(settings, {}, lookup=catalogue)
    await gateway.start()
    try:
        report = await make_agent(SOURCES.format(tree=tree, url=provider.url), mirror=gateway).run(
            "s1-area"
        )
        assert (report.state, report.created, report.mirrored) == ("ok", 2, 0)
        assert (
            len(report.mirror_errors) == 2 and "does not allow mirroring" in report.mirror_errors[0]
        )
    finally:
        await gateway.close()


async def test_the_scheduled_agent_in_the_app_mirrors_through_the_app_gateway(
    tmp_path: Path, provider: Provider
) -> None:
    import asyncio

    import httpx

    from everest_elearn.api import create_app

    tree = archive_tree(provider.root, copy=True)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(url=provider.url))
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES.format(tree=tree, url=provider.url) + "    schedule: 1h\n")
    settings = Settings(
        data_dir=tmp_path / "agency",
        security={"admin_token": "admin-secret"},  # type: ignore[arg-type]
        catalogue={"load_samples": False},  # type: ignore[arg-type]
        gateway=GatewaySettings(rules_file=rules),
        harvest={"sources_file": sources, "tick": 0.1},  # type: ignore[arg-type]
    )
    app = create_app(settings)
    admin = {"Authorization": "Bearer admin-secret"}
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as http:
            row: dict[str, object] = {}
            for _ in range(400):  # nobody presses a button: the schedule runs the source
                row = (await http.get("/harvest/sources/s1-area", headers=admin)).json()
                if row["state"] in ("ok", "failed", "limited"):
                    break
                await asyncio.sleep(0.05)
            assert row["state"] == "ok" and row["mirror"] is True, row
            totals = row["totals"]
            assert isinstance(totals, dict) and (totals["created"], totals["mirrored"]) == (2, 2)
            stored = await app.state.gateway.store.stat(f"mirror/s1/{S1A}/{S1A}.zip")
            assert stored is not None and stored.size == (SAFE / f"{S1A}.zip").stat().st_size
            record = await http.get(f"/catalogue/records/{S1A}")
            assert record.status_code == 200
