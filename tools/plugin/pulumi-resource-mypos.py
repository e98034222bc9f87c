"""The entry point PyInstaller freezes into the self-contained plugin executable (scripts/dist)."""

from mypos_provider.native.server import main

main()
