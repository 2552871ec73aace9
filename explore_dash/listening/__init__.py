"""What the user hears and keeps: audio served from the library, radio and paths, playlists."""
