"""A SmartphoneKey emulator (docs/INTEGRATIONS.md "SmartphoneKey emulator"): `POST auth/token`,
`POST users/{id}/AddAccessibleLock` (seed 003: X-API-Key + Bearer JWT), `GET _control/users/{id}/locks`.

Mounted at `/_emulators/smartphonekey/` (urls.py); development and tests only."""
