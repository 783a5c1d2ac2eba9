"""``python -m coursekit ...``: see ``coursekit.cli``."""

import sys

from .cli import main

sys.exit(main())
