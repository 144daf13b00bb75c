"""Encore's desktop player: a PySide6 client of the headless engine in ``core``."""
