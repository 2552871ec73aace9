"""Entry point: ``python -m extraction``."""

from extraction.cli import main

raise SystemExit(main())
