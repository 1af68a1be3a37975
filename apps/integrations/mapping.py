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


class MappingError(VendorFormatError):
    """One field of a vendor record cannot be taken: `field` (its path in the record), `value`
    (as received) and `reason`. The message hides values of `SENSITIVE_FIELDS` (card numbers,
    PINs): it goes into logs and link errors, the raw value stays on `.value` only."""

    SENSITIVE_FIELDS = frozenset({"card_num", "pin", "credential_key"})

    def __init__(self, field: str, value, reason: str):
        self.value = value
        self.reason = reason
        leaf = field.rsplit(".", 1)[-1].split("[", 1)[0]
        shown = f"<{len(str(value))} characters, hidden>" if leaf in self.SENSITIVE_FIELDS else repr(value)
        super().__init__(field, f"{reason} (got {shown})")
