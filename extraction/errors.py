"""Expected failures of the extraction package, each with a message a user can act on."""


class ExtractionError(Exception):
    """Base class of every expected extraction failure."""


class LibraryError(ExtractionError):
    """The music library or the data directory cannot be used (missing, unreadable, unwritable)."""


class AudioDecodeError(ExtractionError):
    """One audio file cannot be decoded (empty, truncated, not audio, unreadable)."""


class ModelError(ExtractionError):
    """A model graph or its metadata is missing, malformed or unknown."""
