"""``python -m ei_brian.cli``: the ``ei-brian`` command."""
import sys

from ei_brian.cli import main

sys.exit(main())
