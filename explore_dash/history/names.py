"""Artist and title as a listen and a track are compared: without case, accents, featured
artists, or the notes that tell one release of a recording from another (remaster, live, mono).

A scrobbler writes "Song (feat. X) - 2011 Remaster" where the file's tags say "Song"; both
become the same key here, so the listen finds its track.
"""

from __future__ import annotations

import re
import unicodedata

#: Featured artists, in a title's brackets or after the main artist: "feat.", "ft.", "featuring",
#: "with".
_FEATURING = re.compile(r"\s*[\(\[]\s*(feat\.?|ft\.?|featuring|with)\s[^\)\]]*[\)\]]", re.I)
_ARTIST_FEATURING = re.compile(r"\s+(feat\.?|ft\.?|featuring)\s.*$", re.I)
#: Words that mark a note on the release, not a part of the title.
_NOTE_WORDS = r"(remaster(ed)?|live|mono|stereo|version|edit|remix|mix|single|album|bonus|demo)"
#: "(2011 Remaster)", "[Live at Wembley]", "- Remastered 2009", "- Live".
_BRACKETED_NOTE = re.compile(r"\s*[\(\[][^\)\]]*\b" + _NOTE_WORDS + r"\b[^\)\]]*[\)\]]", re.I)
_DASHED_NOTE = re.compile(r"\s+[-–—]\s+[^-–—]*\b" + _NOTE_WORDS + r"\b[^-–—]*$", re.I)


def plain(text: str) -> str:
    """``text`` casefolded, without accents, punctuation runs as one space."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", letters).split())


def title_key(title: str) -> str:
    """A title without featured artists and release notes, :func:`plain`."""
    text = _FEATURING.sub("", title)
    text = _BRACKETED_NOTE.sub("", text)
    text = _DASHED_NOTE.sub("", text)
    return plain(text) or plain(title)


def artist_key(artist: str) -> str:
    """The main artist: without "feat. …", :func:`plain`."""
    return plain(_ARTIST_FEATURING.sub("", artist)) or plain(artist)
