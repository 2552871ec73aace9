"""Shared pytest setup: headless Chromium options for the dash_duo browser tests."""

from __future__ import annotations

import shutil


def pytest_setup_options():
    """Chrome options for dash_duo: headless system Chromium, no network chatter, autoplay."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.add_argument("--headless=new")
    options.add_argument("--window-size=1600,1000")
    # No background connections: the machine may have no network, and Chromium would retry.
    options.add_argument("--disable-background-networking")
    options.add_argument("--disable-component-update")
    options.add_argument("--disable-sync")
    options.add_argument("--no-first-run")
    # Hover playback is tested without a user gesture first.
    options.add_argument("--autoplay-policy=no-user-gesture-required")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    return options
