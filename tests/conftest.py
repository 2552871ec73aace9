"""Shared pytest setup: headless Chromium options for the dash_duo browser tests."""

from __future__ import annotations

import importlib.util

# The hook exists only where dash's pytest plugin is installed (the test extra); the TensorFlow
# venv that checks the model conversion runs without it.
if importlib.util.find_spec("dash") and importlib.util.find_spec("selenium"):

    def pytest_setup_options():
        from tests.browser_options import chrome_options

        return chrome_options()
