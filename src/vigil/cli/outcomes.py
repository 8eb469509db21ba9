"""Printing import outcomes as they happen (import and sync share it)."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from vigil.cli.common import EXIT_OK, EXIT_REJECTED, OutputFormat, err, out, print_json, progress_enabled
from vigil.services.advisory_import import ImportOutcome, ImportSummary


class OutcomePrinter:
    """Feed it outcomes (`add`); it shows progress, prints each rejection at once, and sums up.

    Rejections go to stderr as `rejected: <source>: <reason>`; the summary line
    `imported N, unchanged U, rejected R` goes to stdout (or everything as JSON with --format json).
    """

    def __init__(self, output: OutputFormat, quiet: bool, verb: str, total: int | None = None) -> None:
        self.output, self.quiet = output, quiet
        self.summary = ImportSummary()
        self.collected: list[ImportOutcome] = []
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if progress_enabled(quiet):
            columns = (TextColumn(verb), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            self._progress = Progress(*columns, console=err, transient=True)
            self._task = self._progress.add_task(verb, total=total)

    def __enter__(self) -> OutcomePrinter:
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress:
            self._progress.stop()

    def add(self, outcome: ImportOutcome) -> None:
        self.summary.add(outcome)
        if self._progress and self._task is not None:
            self._progress.advance(self._task)
        if self.output is OutputFormat.json:
            self.collected.append(outcome)
        elif outcome.status == "rejected":
            err.print(f"rejected: {outcome.source}: {outcome.reason}", markup=False)

    def finish(self) -> int:
        """Print the summary; return the exit code (1 if anything was rejected)."""
        counts = self.summary.counts
        if self.output is OutputFormat.json:
            print_json(
                {
                    "imported": self.summary.imported,
                    "unchanged": counts["unchanged"],
                    "rejected": self.summary.rejected,
                    "new_advisories": counts["imported"],
                    "new_revisions": counts["revision"],
                    "skipped": counts["skipped"],
                    "outcomes": [vars(o) for o in self.collected],
                }
            )
        else:
            out.print(self.summary.line)
            details = []
            if counts["revision"]:
                details.append(f"{counts['revision']} of them new revisions of known advisories")
            if counts["skipped"]:
                details.append(f"skipped {counts['skipped']} non-advisory JSON files (feeds, provider metadata)")
            if details and not self.quiet:
                out.print("; ".join(details))
        return EXIT_REJECTED if self.summary.rejected else EXIT_OK
