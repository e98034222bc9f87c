"""The provider's rules, without Pulumi: validation, diff, create or adopt, read, update and delete of webhooks
and subscriptions, and the "same object" matching rules. Every rule receives its client (and the deployment's
shared view of the account) from the caller; the Pulumi shells in `mypos_provider.resources` only translate.
"""
