"""Every product of every document in CISA's corpus compiles, and one index holds them all (issue #4)."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from conftest import corpus_dir
from vigil.identity.vendors import default_aliases
from vigil.matching.candidates import CatalogIndex
from vigil.matching.compiled import compile_revision
from vigil.services.matching import notation_counts
from vigil.sources.csaf.document import extract
from vigil.store.revision_header import RevisionHeader

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def test_every_leaf_of_the_corpus_compiles_into_one_index() -> None:
    documents = [orjson.loads(path.read_bytes()) for path in sorted((corpus_dir() / "csaf_files").rglob("*.json"))]
    documents = [document for document in documents if "document" in document]  # ROLIE feeds live there too
    revisions = []
    for number, document in enumerate(documents):
        doc = extract(document)
        header = RevisionHeader(
            number,
            number,
            doc.header.tracking_id,
            doc.header.tracking_version,
            doc.header.publisher_name,
            doc.header.publisher_category,
        )
        revisions.append(
            compile_revision(
                header,
                doc.products,
                doc.helpers,
                doc.relationships,
                doc.group_members,
                doc.vulnerabilities,
                doc.statuses,
                default_aliases(),
            )
        )
    products = sum(len(doc.predicates) for doc in revisions)
    index = CatalogIndex(revisions)
    assert len(documents) == 2383 and len(index.slots) == products
    counts: Counter[str] = notation_counts(revisions)
    leaves = sum(counts.values())
    # Every version leaf is kept, understood or not: none is dropped on the way.
    assert leaves >= 15_000
    unparsed = counts["unparsed"] / leaves
    print(f"\n{len(documents)} documents, {products} products, {leaves} version leaves, unparsed {unparsed:.2%}")
    assert unparsed <= 0.01, dict(counts)
