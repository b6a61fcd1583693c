"""The pydantic base every wire model shares: snake_case in Python, camelCase on the wire."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """Immutable-by-convention model serialized with camelCase keys and no ``None`` fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        ser_json_inf_nan="strings",
    )

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready dict in the reference's wire shape."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
