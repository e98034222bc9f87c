"""The native provider `pulumi-resource-mypos`: the same rules as the dynamic resources, for every language.

`server.main()` serves `provider.NativeProvider` to the engine; the provider only translates between
Pulumi's property values (values.py, the schema's camelCase names) and the core's, and runs the shared
operations (mypos_provider/provider/operations.py) on a thread pool of its own. The schema (schema.json) is
what `pulumi package get-schema`, SDK generation and `pulumi import` read.
"""
