"""Playlists: stored in MongoDB (``store``), imported and exported as M3U8 and XSPF (``formats``)."""
