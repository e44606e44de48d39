"""`python -m publisher.cli`: the `congkhai` command without its installed script."""
import sys

from . import main

sys.exit(main())
