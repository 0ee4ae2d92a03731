"""spicebar: what your resistive crossbar really computes."""

__version__ = "0.1.0"
