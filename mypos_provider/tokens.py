"""The resources' type tokens, defined once: the state records them, so they are a long-term contract.

`pulumi.dynamic.Resource` subclasses get the token `pulumi-python:dynamic/<module>:<name>`; the resource
classes are declared with MODULE and the names below, and everything that reads a state (the CLI's
`list`, `emit` and `recover`) matches these strings.
"""

MODULE = "mypos"
WEBHOOK = "Webhook"
SUBSCRIPTION = "Subscription"
WEBHOOK_TYPE = f"pulumi-python:dynamic/{MODULE}:{WEBHOOK}"
SUBSCRIPTION_TYPE = f"pulumi-python:dynamic/{MODULE}:{SUBSCRIPTION}"
