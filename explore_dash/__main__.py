"""Entry point: ``python -m explore_dash``."""

from explore_dash.cli import main

raise SystemExit(main())
