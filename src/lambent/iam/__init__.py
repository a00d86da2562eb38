"""IAM and STS as far as AWS tooling needs them: roles, users, policies, keys, sessions.

Everything is a store document keyed by account, so no account can see another's
entities. Access keys and session credentials live in `auth.credentials.CredentialStore`,
which is what SigV4 verification reads.
"""
