"""PURE: errors shared by the vendor mappings (`apps/integrations/<vendor>/`), no Django."""


class LossyMappingError(ValueError):
    """The value cannot be translated without losing something; the message says exactly what.

    `losses` holds one readable line per lost item; `str()` joins them with "; ".
    """

    def __init__(self, *losses: str):
        super().__init__("; ".join(losses))
        self.losses = losses


class VendorFormatError(ValueError):
    """A vendor object is malformed (not merely unmappable); `field` names the vendor field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
