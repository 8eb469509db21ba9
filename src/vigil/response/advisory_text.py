"""What an advisory's own words say about exploitation and about harm to patients, sentence by sentence.

The sentences are CISA's and manufacturers' set phrases, read from every note of CISA's CSAF corpus:
"No known public exploits specifically target this vulnerability." (841 + 693 times) says exploitation is
*none* — it names public exploits only to deny them; "Exploits that target these vulnerabilities are publicly
available." and "Public exploits are available." mean a *public PoC*; "CISA has received reports of this
vulnerability being actively exploited." and "as exploited in the wild" mean *active*. A negation before the
phrase ("no", "not", "never") turns any of them into a *none* statement. Sentences that only speak of what
exploitation could do ("Successful exploitation ... could allow ...", "to minimize the risk of exploitation")
say nothing about whether it happens and are ignored.
"""

from __future__ import annotations

import re

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_EVIDENCE = re.compile(r"\bexploit(s|ed|ation|\s+code)?\b|proof[- ]of[- ]concept|\bpoc\b|in the wild", re.IGNORECASE)
_NEGATION = re.compile(r"\b(no|not|never|none|nor|without)\b|n't\b", re.IGNORECASE)
_ACTIVE = re.compile(
    r"actively exploited|active(ly)? exploitation|exploited in the wild|in the wild|known to be exploited"
    r"|known exploited|being exploited|under active attack"
    r"|reports? of (this|these|the) vulnerabilit(y|ies) being (actively )?exploited|reports? of exploitation"
    r"|exploitation (has been|was|is being) (observed|reported|detected|seen)",
    re.IGNORECASE,
)
_PUBLIC_POC = re.compile(
    r"proof[- ]of[- ]concept|\bpoc\b|exploits?\b[^.]{0,80}\bpublicly available|public(ly available)? exploits?\b"
    r"|exploit code\b[^.]{0,40}\b(public|available|released|published)|metasploit|exploit-?db",
    re.IGNORECASE,
)
_DENIAL = re.compile(r"\b(known|reports?|received|aware|evidence|public|publicly|observed)\b", re.IGNORECASE)

# CSAF threats of category exploit_status sometimes hold one word instead of a sentence.
_STATUS_WORDS = {
    "none": "none",
    "unproven": "none",
    "unreported": "none",
    "poc": "public_poc",
    "proof of concept": "public_poc",
    "public poc": "public_poc",
    "functional": "public_poc",
    "high": "public_poc",
    "active": "active",
    "attacked": "active",
}

_HARM = re.compile(
    r"patient safety|patient harm|harm(ful)? to (the )?patients?|(could|may|can) harm|injur(y|ies|e|ed)|death"
    r"|life[- ]threatening|\btherap(y|ies|eutic)\b|\bdos(e|es|age|ing)\b|overdose|under-?dose"
    r"|(impact|delay|affect|disrupt)\w* (in |on |to )?patient care",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """The text split into sentences (CISA runs some together without a space; those stay one)."""
    return [part.strip() for part in _SENTENCES.split(text) if part and part.strip()]


def exploitation_statement(text: str) -> tuple[str, str] | None:
    """(none | public_poc | active, the sentence) for the strongest statement the text makes, or None."""
    stripped = text.strip().strip(".").casefold()
    if stripped in _STATUS_WORDS:
        return _STATUS_WORDS[stripped], text.strip()
    best: tuple[str, str] | None = None
    order = ("none", "public_poc", "active")
    for sentence in sentences(text):
        level = _sentence_level(sentence)
        if level is not None and (best is None or order.index(level) > order.index(best[0])):
            best = (level, sentence)
    return best


def _sentence_level(sentence: str) -> str | None:
    if not _EVIDENCE.search(sentence):
        return None
    for pattern, level in ((_ACTIVE, "active"), (_PUBLIC_POC, "public_poc")):
        found = pattern.search(sentence)
        if found:
            return "none" if _NEGATION.search(sentence[: found.end()]) else level
    negation = _NEGATION.search(sentence)
    if negation and _DENIAL.search(sentence):
        return "none"
    return None


def harm_statement(text: str) -> str | None:
    """The first sentence that says exploitation can harm patients (safety, injury, therapy, dose, care)."""
    for sentence in sentences(text):
        found = _HARM.search(sentence)
        if found and not _NEGATION.search(sentence[: found.end()]):
            return sentence
    return None
