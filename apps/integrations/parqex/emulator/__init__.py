"""A ParqEx cloud emulator (docs/INTEGRATIONS.md "ParqEx emulator"): `GET /oauth/v1/endpoints/sync`
answering the seed's fixture, and `_control/` endpoints for state and failures.

Mounted at `/_emulators/parqex/` (urls.py); development and tests only.
"""
