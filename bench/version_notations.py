"""How CISA's corpus writes versions: every product_version(_range) leaf through parse_version_rule.

Prints the leaves per notation, the unparsed share (target <= 1 %) and the most common unparsed texts.
`--libraries` also measures packaging and univers on a sample of the corpus's version strings.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from vigil.identity.version_rules import NOTATIONS, parse_version_rule

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/cisa-csaf"
TARGET = 0.01


def leaves(corpus: Path) -> Iterator[tuple[str, str]]:
    """(category, name) of every version leaf of every document."""
    for path in sorted((corpus / "csaf_files").rglob("*.json")):
        document = orjson.loads(path.read_bytes())
        stack: list[Any] = list(document.get("product_tree", {}).get("branches", []))
        while stack:
            branch = stack.pop()
            stack.extend(branch.get("branches", []))
            if branch.get("category") in ("product_version", "product_version_range"):
                yield branch["category"], branch.get("name", "")


def measure_libraries(texts: list[str], sample_size: int = 200, seed: int = 4) -> None:
    """How many of a sample of corpus version strings packaging and univers can parse."""
    try:
        from packaging.version import InvalidVersion, Version
        from univers.versions import GenericVersion
    except ImportError as error:  # neither is a vigil dependency
        print(f"library measurement skipped: {error}")
        return

    sample = random.Random(seed).sample(sorted(set(texts)), min(sample_size, len(set(texts))))
    counts = Counter[str]()
    for text in sample:
        try:
            Version(text)
            counts["packaging"] += 1
        except InvalidVersion:
            pass
        try:
            GenericVersion(text)
            counts["univers generic"] += 1
        except Exception:  # noqa: S112 - any refusal counts as "cannot parse"
            continue
    print(f"library parse rate on {len(sample)} corpus version strings: {dict(counts)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--libraries", action="store_true", help="also measure packaging and univers")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if not (CORPUS / "csaf_files").is_dir():
        print(f"skipped: shared CISA corpus not found at {CORPUS}")
        return 0
    notations = Counter[str]()
    unparsed = Counter[str]()
    operands: list[str] = []
    for category, name in leaves(CORPUS):
        rule = parse_version_rule(name, category)
        notations[rule.notation] += 1
        if rule.notation == "unparsed":
            unparsed[name] += 1
        operands.extend(rule.versions)
        operands.extend(version for conjunction in rule.ranges for _, version in conjunction)
    total = sum(notations.values())
    for notation in NOTATIONS:
        print(f"{notation:14} {notations[notation]:7}  {notations[notation] / total:6.1%}")
    share = notations["unparsed"] / total
    verdict = "ok" if share <= TARGET else "ABOVE TARGET"
    print(f"{'leaves':14} {total:7}   unparsed {share:.2%} (target <= {TARGET:.0%}: {verdict})")
    print(f"\n{args.top} most common unparsed texts:")
    for text, count in unparsed.most_common(args.top):
        print(f"{count:5}  {text!r}")
    if args.libraries:
        measure_libraries(operands)
    return 0


if __name__ == "__main__":
    sys.exit(main())
