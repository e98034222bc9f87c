"""`python -m mypos_provider`: see mypos_provider.cli."""

import sys

from .cli import main

sys.exit(main())
