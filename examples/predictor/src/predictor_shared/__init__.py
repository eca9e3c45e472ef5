"""Shared feature code, imported by the trainer (the import path the probe's imports check guards)."""
