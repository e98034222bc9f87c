"""What every myPOS resource provider shares."""

from __future__ import annotations

from pulumi.dynamic import ConfigureRequest, ResourceProvider

from . import detailed_diff
from .runtime import RUNTIME, stack_config_of


class MyPOSProvider(ResourceProvider):
    """Translates between Pulumi properties and the API client; holds no state (it is pickled by reference)."""

    # Nothing secret is captured in the provider, so its serialized form can stay plain: small, and
    # byte-for-byte identical in every resource and every run.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        RUNTIME.configure(stack_config_of(req))
        detailed_diff.install()
