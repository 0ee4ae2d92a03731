"""The ``spicebar`` command (:mod:`.main`, one module per command group) and the demos.

May import: every layer. Nothing in the package imports it, except the public
``spicebar.run_demo`` (loaded on first use).
"""

from .main import main  # noqa: F401  (the console script: spicebar.cli:main)
