"""Tests of the pieces, in this process: fast, no server, no browser."""
