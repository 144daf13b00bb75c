"""``python -m player``."""

import sys

from player.launch import main

sys.exit(main())
