"""Page layout: pure functions from app state to Dash components."""
