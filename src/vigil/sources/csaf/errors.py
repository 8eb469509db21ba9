"""The one exception every CSAF reader raises for input it refuses."""


class RejectedDocument(Exception):
    """This document is refused; `str(error)` is the one-line reason shown to the user."""


class NotAnAdvisory(RejectedDocument):
    """JSON from a CSAF distribution that is not an advisory (ROLIE feed, provider metadata, ...).

    Met while scanning a directory it is skipped, not rejected; named explicitly it is rejected.
    """
