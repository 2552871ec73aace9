"""Headless Chromium options shared by the browser tests, benchmarks and screenshot script."""

from __future__ import annotations

import shutil


def chrome_options():
    """Options for system Chromium: headless, no network chatter, autoplay without a gesture."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.add_argument("--headless=new")
    options.add_argument("--window-size=1600,1000")
    # Root (CI, containers) cannot use the sandbox; /dev/shm is tiny in containers.
    options.add_argument("--no-sandbox")
    options.add_argument("--disable-dev-shm-usage")
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
