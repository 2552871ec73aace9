"""The user's own players, which explore-dash sends music to: MPD (``--mpd``)."""
