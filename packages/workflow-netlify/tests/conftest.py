"""Fixtures for the Netlify adapter tests."""

from __future__ import annotations

import sys
from pathlib import Path

# Helper modules live beside the tests; importlib import mode does not put this
# directory on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))
