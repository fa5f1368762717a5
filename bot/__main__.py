"""`python -m bot`: the same as `samverkan serve`."""

import sys

from bot.serve import main

if __name__ == "__main__":
    sys.exit(main())
