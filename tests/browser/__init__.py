"""Tests that drive a headless Chromium (marked ``browser``; skipped and counted without one)."""
