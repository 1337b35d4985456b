"""Scripts under tools/ are not a package: tests import them by name from that folder."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def import_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` (and the helpers it imports from tools/)."""
    sys.path.insert(0, str(TOOLS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(TOOLS))
