"""Matching: CSAF products compiled into predicates, evaluated against inventory assets (pure; no database)."""

from vigil.matching.evaluate import Match, match_product
from vigil.matching.predicates import Identifier, ProductPredicate, compile_products

__all__ = ["Identifier", "Match", "ProductPredicate", "compile_products", "match_product"]
