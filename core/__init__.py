# SPDX-License-Identifier: GPL-2.0-or-later
# Unlike the rest of Encore (GPL-3.0-or-later): this file is frozen into the encore-db program
# together with GPL-2.0-only SecantusDB, so it must be GPL-2.0 compatible.
"""Encore's headless engine: analysis, similarity, storage, events and playback, without Qt."""

__version__ = "0.1.0"
