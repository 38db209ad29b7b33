"""The evidence package's domain error, in a module of its own so that the CLI's error edge
can name it without loading the cryptography libraries."""

from __future__ import annotations

__all__ = ["SigningError"]


class SigningError(ValueError):
    """A signing key that cannot be made or used, or a signed export that cannot be made:
    says which file and why."""
