# SPDX-License-Identifier: GPL-2.0-or-later
# (Also offered under GPL-2.0-or-later, unlike the rest of Encore: these files are frozen into the
# encore-db program together with GPL-2.0-only SecantusDB.)
"""Encore's headless engine: analysis, similarity, storage, events and playback, without Qt."""

__version__ = "0.1.0"
