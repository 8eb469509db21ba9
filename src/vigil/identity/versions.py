"""Version text as devices and inventories write it, reduced to the version itself.

Only normalisation lives here (issue #3); comparison and ranges arrive with the matcher (#4).
"""

from __future__ import annotations

import re

# "v1.4.5", "V 1.4.5", "R1.4.5", "Rel. 1.4.5", "Release 1.4.5", "Version 1.4.5", "Ver 2": the prefix is
# not part of the version. Only stripped when a digit follows, so "6.3V1L10" and "Rev B" stay whole.
_PREFIX = re.compile(r"^(?:release|rel\.?|version|ver\.?|v|r)\s*(?=\d)", re.IGNORECASE)


def normalise_version(raw: str) -> str:
    """The version without notation prefixes and surrounding space; the raw text is kept by callers."""
    text = " ".join(raw.split())
    return _PREFIX.sub("", text, count=1)
