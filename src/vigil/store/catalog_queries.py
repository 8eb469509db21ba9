"""Read queries for the inventory generator: the products the current advisory revisions name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from vigil.store import schema as t

Rev = t.AdvisoryRevision

ProductRow = Row[str, int, str, str | None, str | None, str | None, str | None]
"""tracking_id, revision_id, product_id, vendor, product_name, product_version, product_version_range."""


def current_products(session: Session) -> Sequence[ProductRow]:
    """(tracking_id, revision_id, product_id, vendor, product_name, product_version, product_version_range)
    of every product with a vendor and a name in a current revision.

    Ordered by content, not by row ids, so the same advisories give the same order in any store.
    """
    p = t.Product
    query = (
        select(
            t.Advisory.tracking_id,
            p.revision_id,
            p.product_id,
            p.vendor,
            p.product_name,
            p.product_version,
            p.product_version_range,
        )
        .join(Rev, Rev.id == p.revision_id)
        .join(t.Advisory, t.Advisory.id == Rev.advisory_id)
        .where(
            Rev.is_current.is_(True),
            p.origin != "relationship",
            p.vendor.is_not(None),
            p.product_name.is_not(None),
        )
        .order_by(
            t.Advisory.tracking_id,
            t.Advisory.publisher_namespace,
            p.vendor,
            p.product_name,
            p.product_version,
            p.product_version_range,
            p.product_id,
        )
    )
    return session.execute(query).all()


def current_model_numbers(session: Session) -> dict[tuple[int, str], list[str]]:
    """(revision_id, product_id) -> model numbers from the identification helpers of current revisions, sorted."""
    h = t.ProductIdentificationHelper
    query = (
        select(h.revision_id, h.product_id, h.value)
        .join(Rev, Rev.id == h.revision_id)
        .where(Rev.is_current.is_(True), h.kind == "model_number")
    )
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for revision_id, product_id, value in session.execute(query):
        found[revision_id, product_id].append(value)
    return {key: sorted(values) for key, values in found.items()}
