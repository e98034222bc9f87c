"""The webhook signature verifier, as mypos-pulumi users have always imported it: the `mypos-signature`
distribution (`mypos_signature`, standard library only, a dependency of mypos-pulumi) under its old name.
A receiver that needs nothing else installs `mypos-signature` alone and imports `mypos_signature`."""

from mypos_signature import *  # noqa: F403 (the same public names, listed once, in mypos_signature)
from mypos_signature import __all__  # noqa: F401
