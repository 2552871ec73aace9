"""``python -m explore_dash`` with its extraction child replaced by tests/support/slow_extractor.py.

    python tests/support/live_app.py SECONDS_PER_TRACK MODELS --library L --data D --port P ...

Everything else is the real command: serving at once, the extraction in its own process, the
status file, the page's poll, Ctrl-C and SIGTERM handling.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, so the repository is not on sys.path yet to import tests.support.paths from.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from explore_dash import cli  # noqa: E402
from tests.support.paths import SLOW_EXTRACTOR  # noqa: E402


def main(argv: list[str]) -> int:
    seconds, models, *app_args = argv

    def extraction_command(library: Path, data: Path) -> list[str]:
        return [
            sys.executable,
            str(SLOW_EXTRACTOR),
            "--seconds-per-track",
            seconds,
            "--library",
            str(library),
            "--data",
            str(data),
            "--models",
            models,
            "--quiet",
        ]

    cli.extraction_command = extraction_command
    return cli.main(app_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
