"""spot-preflight: prove a spot training host is ready without ever training on it."""

__version__ = "0.1.0"
