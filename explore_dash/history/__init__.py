"""What the user has listened to: listens read from exports, matched to the library's tracks,
kept in the data folder."""
