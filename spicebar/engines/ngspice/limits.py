"""The time limit every ngspice run shares unless its caller sets one.

A module of its own, with no imports, so the CLI's flag defaults, the hardware layer's
signatures and the engines name one number without loading the engine.
"""

#: Wall-time limit of one ngspice run, seconds.
DEFAULT_TIMEOUT_S = 600.0
