"""``python -m spicebar.cli``: the same as the ``spicebar`` command."""

import sys

from .main import main

sys.exit(main())
