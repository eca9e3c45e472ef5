"""The demo trainer."""
