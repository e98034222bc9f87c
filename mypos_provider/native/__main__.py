"""`python -m mypos_provider.native`: what the `pulumi-resource-mypos` console script runs."""

from .server import main

main()
