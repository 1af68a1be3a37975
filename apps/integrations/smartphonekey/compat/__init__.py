"""SmartphoneKey compatibility endpoint: `/compat/smartphonekey/` (docs/INTEGRATIONS.md)."""
