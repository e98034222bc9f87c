"""The myPOS emulator, as mypos-pulumi users have always imported it: the `mypos-emulator` distribution
(`mypos_emulator`, a dependency of mypos-pulumi) under its old name. New code imports `mypos_emulator`."""

from mypos_emulator import *  # noqa: F403 (the same public names, listed once, in mypos_emulator)
from mypos_emulator import __all__  # noqa: F401
