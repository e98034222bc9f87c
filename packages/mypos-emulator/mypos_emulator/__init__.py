"""A local emulator of myPOS's Auth API and Webhook API, for tests and offline development.

Run it with `python -m mypos_emulator` (or `mypos-emulator`), or in-process:

    with Emulator() as emu:
        requests.post(f"{emu.auth_url}/oauth/token", ...)

See docs/emulator.md.
"""

from .clock import Clock, ManualClock, SystemClock
from .core import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from .guard import ControlTokenRequired
from .httpserver import ServerLimits
from .persistence import StateFileError
from .runtime import Emulator
from .settings import EmulatorSettings, SettingsError

__all__ = (
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "Clock",
    "ControlTokenRequired",
    "Emulator",
    "EmulatorSettings",
    "ManualClock",
    "ServerLimits",
    "SettingsError",
    "StateFileError",
    "SystemClock",
)
