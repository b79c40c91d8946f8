"""Sarabun, the Thai government's standard typeface, shipped once for every part that draws Thai.

The web app serves these files at `/fonts/<name>` (see `wsgi.py`) for the desk's KPI pages and the
web chat; code that draws images (Pillow) opens them by path. Licence and origin: README.md here.
"""

from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).parent
SARABUN_REGULAR = FONT_DIR / "Sarabun-Regular.ttf"
SARABUN_BOLD = FONT_DIR / "Sarabun-Bold.ttf"
# What `/fonts/<name>` serves: the font files alone, not the licence notes beside them.
SERVED = frozenset({SARABUN_REGULAR.name, SARABUN_BOLD.name})
