"""Component ids, in one place. Panel components repeat, so theirs are pattern-matching dicts."""

from __future__ import annotations

PANELS = (0, 1)

# Music selection and display
ARTISTS = "music-artists"
TAGS = "music-tags"
REDUCTION = "music-reduction"
REDUCTION_BOX = "music-reduction-box"
SEGMENT_LENGTH = "segment-length"

# Reading the map (explore_dash/data/colouring.py)
COLOUR_BY = "colour-by"
TRAJECTORIES = "trajectories"
CAPTIONS = "captions"
SEARCH = "search"
SEARCH_MESSAGE = "search-message"
FLY_TO = "fly-to-store"

# Highlight
HIGHLIGHT_ARTISTS = "highlight-artists"
HIGHLIGHT_ALBUMS = "highlight-albums"
HIGHLIGHT_TRACKS = "highlight-tracks"
HIGHLIGHT_TAGS = "highlight-tags"

# Listening
LISTEN_MODE = "listen-mode"
PLAYER = "player"
NOW_PLAYING = "now-playing"

# Selection and playlist
SELECTION = "selection-store"
PLAYLIST = "playlist-store"
PLAYLIST_LIST = "playlist-list"
PLAYLIST_RELATIVE = "playlist-relative"
PLAYLIST_NAME = "playlist-name"
PLAYLIST_EXPORT = "playlist-export"
PLAYLIST_DOWNLOAD = "playlist-download"
PLAYLIST_MESSAGE = "playlist-message"

# Extraction running beside the app
EXTRACTION_BOX = "extraction-box"
EXTRACTION_BAR = "extraction-bar"
EXTRACTION_TEXT = "extraction-text"
EXTRACTION_FAILURES = "extraction-failures"
LIBRARY_POLL = "library-poll"
DATA_VERSION = "data-version-store"
LIBRARY_SUMMARY = "library-summary"
MAPS_AHEAD = "maps-ahead"

# Page
EMPTY_STATE = "empty-state"
ERROR_MESSAGE = "error-message"
TRACK_NAMES = "track-names-store"


def panel(kind: str, index: int | str) -> dict:
    """Id of one panel's component; ``kind`` is one of the PANEL_* names below."""
    return {"type": kind, "panel": index}


PANEL_GRAPH = "panel-graph"
PANEL_ARCHITECTURE = "panel-architecture"
PANEL_DATASET = "panel-dataset"
PANEL_LAYER = "panel-layer"
PANEL_PROJECTION = "panel-projection"
PANEL_RESET = "panel-reset"
PANEL_COUNT = "panel-count"
PANEL_JOB = "panel-job"
PANEL_VIEW = "panel-view"
PANEL_LEGEND = "panel-legend"
PANEL_RECOMPUTE = "panel-recompute"
PANEL_RETRY = "panel-retry"
PANEL_PROGRESS = "panel-progress"
PANEL_PROGRESS_BOX = "panel-progress-box"
PANEL_PROGRESS_TEXT = "panel-progress-text"
PANEL_CANCEL = "panel-cancel"


def cancel_button(index: int) -> str:
    """A plain string id: Dash background callbacks cannot cancel from dict ids."""
    return f"{PANEL_CANCEL}-{index}"


PLAYLIST_REMOVE = "playlist-remove"
PLAYLIST_UP = "playlist-up"
PLAYLIST_PLAY = "playlist-play"
PLAYLIST_DOWN = "playlist-down"
# The playlist is the user's: a selection offers to add or replace, and changes can be undone
# (explore_dash/callbacks/playlist.py).
PLAYLIST_EDITS = "playlist-edits-store"
PLAYLIST_OFFER = "playlist-offer"
PLAYLIST_OFFER_TEXT = "playlist-offer-text"
PLAYLIST_ADD = "playlist-add"
PLAYLIST_REPLACE = "playlist-replace"
PLAYLIST_UNDO = "playlist-undo"
PLAYLIST_REDO = "playlist-redo"
PLAYLIST_KEPT = "playlist-kept"
PLAYLIST_RESTORE = "playlist-restore"

# Radio, paths and whole-track listening (explore_dash/listening/radio.py, assets/explore-flow.js)
LAST_SEGMENT = "last-segment-store"
CHAIN = "chain-store"
CHAIN_MORE = "chain-more-store"
CHAIN_LIST = "chain-list"
CHAIN_TO_PLAYLIST = "chain-to-playlist"
FLOW_MESSAGE = "flow-message"
FLOW_STATUS = "flow-status"
RADIO_START = "radio-start"
ITEM_LENGTH = "item-length"
ARTIST_GAP = "diversity-artist-gap"
DISTINCT_ALBUMS = "diversity-albums"
EXCLUDE_ARTISTS = "exclude-artists"
EXCLUDE_TAGS = "exclude-tags"
PATH_START = "path-start"
PATH_END = "path-end"
PATH_START_FROM_MAP = "path-start-from-map"
PATH_END_FROM_MAP = "path-end-from-map"
PATH_STEPS = "path-steps"
PATH_SPACE = "path-space"
PATH_BUTTON = "path-button"
FLOW_SKIP = "flow-skip"
FLOW_PAUSE = "flow-pause"
FLOW_STOP = "flow-stop"
PIN_MOMENT = "pin-moment"
# What the two buttons under the player say when nothing was hovered yet (found by the browser
# through its data-listen-hint attribute: layouts/listening.py).
PIN_HINT = "pin-hint"
PIN_START = "pin-start"
PLAY_POSITION = "play-position"
PLAY_MOMENT = "play-moment"
PLAY_TRACK = "play-track"
PLAYLIST_STARTS = "playlist-starts-store"
PLAYLIST_KEEP_MOMENTS = "playlist-keep-moments"

# The user's player (explore_dash/players/): shown only when the app was started with --mpd
PLAYLIST_TO_MPD = "playlist-to-mpd"
PLAYLIST_ADD_TO_MPD = "playlist-add-to-mpd"
CHAIN_TO_MPD = "chain-to-mpd"
CHAIN_ADD_TO_MPD = "chain-add-to-mpd"
MPD_LINE = "mpd-line"
MPD_POLL = "mpd-poll"
MPD_NOW = "mpd-now-store"
MPD_SEEK = "mpd-seek-store"
PLAYLIST_TO_SUBSONIC = "playlist-to-subsonic"
CHAIN_TO_SUBSONIC = "chain-to-subsonic"
