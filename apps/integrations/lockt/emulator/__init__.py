"""A faithful local stand-in for the Lockt SecureAccess Cloud API (spec: shared/spec/lockt-cloud-api.md).

Mounted at /_emulators/lockt/ when KEYHOUSE_EMULATORS is true. It is a remote cloud, not part of
Keyhouse's domain: it imports nothing from the domain apps and keeps its own tables.
See docs/INTEGRATIONS.md, "Lockt emulator".
"""
