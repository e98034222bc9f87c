"""`python -m mypos_provider.emulator`: the emulator's command line (`mypos_emulator`) under its old name."""

import sys

from mypos_emulator.__main__ import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m mypos_provider.emulator"))
