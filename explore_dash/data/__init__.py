"""The library as the app reads it: tracks, segment spaces, tags, windows, filters, search.

Lowest layer of the app: it imports nothing of maps/, listening/, callbacks/, layouts/ or server/.
A point's category and colour (colouring) and the nearest-neighbour index (neighbours) live here
because a :class:`~explore_dash.data.snapshot.Snapshot` caches both for every panel and the radio.
"""
