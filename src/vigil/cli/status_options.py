"""Options that state a response status, shared by `vigil findings set-status` and `vigil decisions add`."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer

from vigil.response.states import JUSTIFICATIONS, RESPONSE_STATUSES, Evidence, StatusChange

StatusArgument = Annotated[str, typer.Argument(help=f"One of: {', '.join(RESPONSE_STATUSES)}.", show_default=False)]
ByOption = Annotated[str, typer.Option("--by", help="Who decides (recorded in the history and the audit log).")]
CommentOption = Annotated[str | None, typer.Option("--comment", help="Why, in your words.")]
EvidenceOption = Annotated[
    list[str] | None, typer.Option("--evidence", help="Evidence as text (repeatable), e.g. what was checked and how.")
]
EvidenceFileOption = Annotated[
    list[Path] | None,
    typer.Option("--evidence-file", help="A file that proves it (repeatable): its path and SHA-256 are recorded."),
]
VerificationOption = Annotated[
    list[str] | None, typer.Option("--verification", help="Id of a verification result that proves it (repeatable).")
]
JustificationOption = Annotated[
    str | None, typer.Option("--justification", help=f"For not_affected: {', '.join(JUSTIFICATIONS)}.")
]
FcoOption = Annotated[str | None, typer.Option("--fco", help="Field change order number (remediation_scheduled).")]
PlannedOption = Annotated[
    str | None, typer.Option("--planned-date", help="Service visit date YYYY-MM-DD (remediation_scheduled).")
]
ContactOption = Annotated[str | None, typer.Option("--vendor-contact", help="Who schedules it at the manufacturer.")]
OwnerOption = Annotated[str | None, typer.Option("--owner", help="Who accepts the risk (risk_accepted).")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why the risk is accepted (risk_accepted).")]
ExpiresOption = Annotated[
    str | None,
    typer.Option(
        "--expires",
        help="End of a risk acceptance: YYYY-MM-DD (valid through that day, UTC) or an ISO-8601 time.",
    ),
]


class OptionError(ValueError):
    """An option value that cannot be read; the message names the option."""


def status_change(
    status: str,
    comment: str | None,
    evidence: list[str] | None,
    evidence_files: list[Path] | None,
    verifications: list[str] | None,
    justification: str | None,
    fco: str | None,
    planned_date: str | None,
    vendor_contact: str | None,
    owner: str | None,
    reason: str | None,
    expires: str | None,
) -> StatusChange:
    items = [Evidence("text", text.strip()) for text in evidence or () if text.strip()]
    items += [_file_evidence(path) for path in evidence_files or ()]
    items += [Evidence("verification", ident.strip()) for ident in verifications or () if ident.strip()]
    return StatusChange(
        status=status,
        comment=comment,
        evidence=tuple(items),
        justification=justification,
        fco_number=fco,
        planned_date=_date("--planned-date", planned_date) if planned_date else None,
        vendor_contact=vendor_contact,
        owner=owner,
        reason=reason,
        expires_at=_expiry(expires) if expires else None,
    )


def _file_evidence(path: Path) -> Evidence:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise OptionError(f"--evidence-file {path}: cannot read it ({error.strerror})") from None
    return Evidence("file", str(path.resolve()), digest)


def _date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise OptionError(f"{option} {text!r}: expected a date YYYY-MM-DD") from None


def _expiry(text: str) -> datetime:
    """A date means the acceptance holds through that whole day (UTC); a time is taken as given."""
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(_date("--expires", text) + timedelta(days=1), time(), tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OptionError(f"--expires {text!r}: expected YYYY-MM-DD or an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
