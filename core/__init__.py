"""Encore's headless engine: analysis, similarity, storage, events and playback, without Qt."""

__version__ = "0.1.0"
