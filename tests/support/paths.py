"""Where things are: the repository's root, once for every test, benchmark and helper, and the
files the tests run or read by path."""

from __future__ import annotations

from pathlib import Path

#: The repository's root, the folder of pyproject.toml (this file is tests/support/paths.py).
REPO = Path(__file__).resolve().parents[2]
#: The extraction CLI with the networks replaced by a slow fake, run as a script.
SLOW_EXTRACTOR = REPO / "tests" / "support" / "slow_extractor.py"
#: ``python -m explore_dash`` with SLOW_EXTRACTOR as its extraction child, run as a script.
LIVE_APP = REPO / "tests" / "support" / "live_app.py"
#: Builds a small real music library from Debian's soundtrack packages; it lives beside the
#: repository (../shared), so the tests that need it skip where it is missing.
SMALL_LIBRARY_SCRIPT = REPO.parent / "shared" / "music" / "make-library.sh"
