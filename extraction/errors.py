"""Expected failures of the extraction package, each with a message a user can act on."""

# What to do when a module the install should have brought is missing (a partial install).
REINSTALL_HINT = "reinstall explore-dash in this environment: pip install --force-reinstall ."


class ExtractionError(Exception):
    """Base class of every expected extraction failure."""


class LibraryError(ExtractionError):
    """The music library or the data directory cannot be used (missing, unreadable, unwritable)."""


class AudioDecodeError(ExtractionError):
    """One audio file cannot be decoded (empty, truncated, not audio, unreadable)."""


class ModelError(ExtractionError):
    """A model graph or its metadata is missing, malformed or unknown."""
