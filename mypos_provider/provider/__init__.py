"""The provider as both shells run it, whatever hosts it: one process's gate, its operations, its engine log.

`process.ProviderProcess` holds what one provider process knows (settings, one client, the deployment's
context) and proves the connection once; `operations.Operations` runs each engine call of one resource type
through that gate exactly once, with the core's rules, and turns every error into one line. The dynamic shell
(`resources/`) and the native one (`native/`) only translate Pulumi's values to these and back.
"""
