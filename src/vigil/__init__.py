"""vigil: medical-device security advisories turned into verified, per-device action."""

__version__ = "0.1.0"
