"""The one exception every CSAF reader raises for input it refuses."""


class RejectedDocument(Exception):
    """This document is refused; `str(error)` is the one-line reason shown to the user."""
