"""The symbols on the player's buttons, in one place.

The Unicode "media control" block (U+23E9-23FA: ⏮ ⏭ ⏯ ⏹) is missing from common fonts such as
DejaVu, the only font many Linux desktops and headless browsers have, where it draws as an empty
box. These come from blocks that DejaVu and every system UI font cover.
"""

PLAY = "▶"  # U+25B6: play on from the moment
FROM_START = "⇤"  # U+21E4: play the whole track from its start
SKIP = "⇥"  # U+21E5: the next item of a chain
PAUSE = "‖"  # U+2016: pause or resume
STOP = "■"  # U+25A0: stop the chain
