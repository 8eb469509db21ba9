"""Use case: write a synthetic hospital inventory (canonical CSV) for demos, tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import yaml

from vigil.services.store import Store
from vigil.sources.inventory.catalog import AdvisoryProduct, Catalog, build_catalog
from vigil.sources.inventory.generate import GenerateStats, write_inventory
from vigil.store.catalog_queries import current_model_numbers, current_products

__all__ = ["GenerateStats", "bundled_spec", "generate_inventory", "load_catalog"]

BUNDLED = "demo_catalog.yaml"


def generate_inventory(
    store: Store | None, assets: int, seed: int, out: Path | TextIO, rows: int | None = None
) -> GenerateStats:
    """Write `assets` synthetic assets drawn from the store's current advisories (else the bundled catalog).

    Same catalog, `assets` and `seed` -> byte-identical output. `rows`, when given, replaces `assets`:
    exactly that many data rows, as many assets as it takes (the last may lose some of its products).
    A path is written to a temporary sibling and renamed into place, so a crash never leaves half a file.
    """
    if assets < 0 or (rows is not None and rows < 0):
        raise ValueError("assets and rows must not be negative")
    catalog = load_catalog(store)
    if not isinstance(out, Path):
        return write_inventory(catalog, out, assets, seed, rows)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            stats = write_inventory(catalog, stream, assets, seed, rows)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return stats


def load_catalog(store: Store | None) -> Catalog:
    """The generator's catalog: the store's current advisory products if it has any, else the bundled ones."""
    spec = bundled_spec()
    products = _store_products(store) if store is not None else []
    if products:
        advisories = len({p.advisory for p in products})
        return build_catalog(spec, products, f"store: {len(products)} products from {advisories} advisories")
    return build_catalog(spec, None, "bundled demo catalog")


def bundled_spec() -> dict[str, Any]:
    """The bundled catalog spec, every scalar a string."""
    text = resources.files("vigil.sources.inventory").joinpath("data", BUNDLED).read_text(encoding="utf-8")
    # BaseLoader keeps every scalar a string: `1.10` must stay a version, not become the float 1.1.
    spec: dict[str, Any] = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
    return spec


def _store_products(store: Store) -> Sequence[AdvisoryProduct]:
    with store.sessions() as session:
        rows = current_products(session)
        numbers = current_model_numbers(session)
    return [
        AdvisoryProduct(
            advisory=row.tracking_id,
            vendor=row.vendor,
            product_name=row.product_name,
            product_version=row.product_version,
            product_version_range=row.product_version_range,
            model_numbers=tuple(numbers.get((row.revision_id, row.product_id), ())),
        )
        for row in rows
    ]
