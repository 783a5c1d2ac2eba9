"""Where coursekit keeps what it downloads or measures: ``$COURSEKIT_CACHE``, else ``~/.cache/coursekit``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """The folder for coursekit's caches (images, the measured convolution layout, ...)."""
    root = os.environ.get("COURSEKIT_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "coursekit"
