"""Name keys: the form in which two spellings of one name compare equal."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Legal-form words carry no identity ("Philips Medical Systems Nederland B.V." is Philips Medical
# Systems Nederland). Only dropped at the end of a name, where legal forms stand.
_LEGAL_FORMS = frozenset(
    {
        *("inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "plc"),
        *("gmbh", "ag", "kg", "se", "sa", "sas", "spa", "srl", "bv", "nv", "oy", "ab", "as", "kk", "pty", "pvt"),
    }
)
_NON_WORD = re.compile(r"[^0-9a-z]+")


# Matching folds the same few thousand names millions of times: remembered, not recomputed.
@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower-case, accents removed (Dräger -> drager), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(ascii_only.lower().split())


@lru_cache(maxsize=200_000)
def name_key(text: str) -> str:
    """Compare-key of a company or product name: folded, punctuation gone, trailing legal forms dropped."""
    words = _NON_WORD.sub(" ", fold(text).replace("&", " and ")).split()
    # "B.V." became "b v": rejoin single letters before testing for a legal form.
    joined: list[str] = []
    for word in words:
        if len(word) == 1 and joined and len(joined[-1]) == 1 and joined[-1].isalpha():
            joined[-1] += word
        else:
            joined.append(word)
    while len(joined) > 1 and (joined[-1] in _LEGAL_FORMS or joined[-1] == "and"):
        joined.pop()
    return " ".join(joined)
