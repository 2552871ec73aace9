"""Entry point: ``python -m extraction``."""

import sys

from extraction.errors import REINSTALL_HINT
from extraction.signals import let_stops_in, missing_module, stops_held

try:
    # The app may stop us while we still import (it quit at once): nothing to keep yet. It
    # starts us with stops blocked (a stop before this line waits, pending): let them in now.
    with stops_held():
        let_stops_in()
        from extraction.cli import main
except KeyboardInterrupt:
    raise SystemExit(130) from None
except ImportError as error:
    name = missing_module(error) or error
    print(f"explore-dash-extract: error: missing module {name}; {REINSTALL_HINT}", file=sys.stderr)
    raise SystemExit(2) from None

raise SystemExit(main())
