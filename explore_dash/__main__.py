"""Entry point: ``python -m explore_dash``."""

from extraction.signals import stops_held

try:
    with stops_held():  # Ctrl-C while still importing: nothing started yet
        from explore_dash.cli import main
except KeyboardInterrupt:
    raise SystemExit(130) from None

raise SystemExit(main())
