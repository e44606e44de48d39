"""`python -m congkhai.migrations "what it does"`: write the next numbered migration (see the README)."""
import sys

from congkhai.migrations import new_revision

if len(sys.argv) != 2:
    sys.exit("usage: python -m congkhai.migrations 'what the migration does'")
print(new_revision(sys.argv[1]))
