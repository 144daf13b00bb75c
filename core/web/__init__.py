"""The web page: now playing, the recommended songs (HTML and JSON), queueing into the player."""
