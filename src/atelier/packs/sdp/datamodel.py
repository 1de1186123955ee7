"""The data model stage's output, in exactly the shapes of seed 001.

``entities[].fields[]`` with name/type/required/description, and ``relationships[]``
with from/to/type/foreignKey/description. The JSON keys are the seed's (``from``,
``foreignKey``); Python uses ``from_`` and ``foreign_key``.

Also the naming rules every later step shares (SQL, OpenAPI, validation), so that an
entity always maps to the same table and a field to the same column.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"
    ),
]
# e.g. "uuid", "string", "text", "integer", "decimal", "boolean", "datetime", "jsonb",
# "enum(a,b,c)"; see sqlgen for how each becomes a column type.
TypeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=400)]

RelationshipType = Literal["one-to-one", "one-to-many", "many-to-one", "many-to-many"]


class _SeedShape(BaseModel):
    # JSON out with the seed's keys; in by either name.
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)


class EntityField(_SeedShape):
    model_config = ConfigDict(title="Field")

    name: Identifier = Field(description="camelCase field name, e.g. userId")
    type: TypeName = Field(
        description=(
            "one of uuid, string, text, integer, decimal, boolean, datetime, date, jsonb, "
            "or enum(value1,value2,...)"
        )
    )
    required: bool = Field(description="true when the field may not be empty")
    description: Description = Field(description="what the field holds; 'FK to X' for keys")


class Entity(_SeedShape):
    model_config = ConfigDict(title="Entity")

    name: Identifier = Field(description="PascalCase entity name, e.g. StageOutput")
    description: Description = Field(description="one sentence: what one record is")
    fields: list[EntityField] = Field(
        min_length=1, max_length=60, description="the fields, starting with id"
    )


class Relationship(_SeedShape):
    model_config = ConfigDict(title="Relationship")

    from_: Identifier = Field(alias="from", description="entity name on the 'one' side")
    to: Identifier = Field(description="entity name on the other side")
    type: RelationshipType = Field(description="cardinality from 'from' to 'to'")
    foreign_key: Identifier = Field(
        alias="foreignKey",
        description=(
            "the key field: on 'to' for one-to-many and one-to-one, on 'from' for many-to-one"
        ),
    )
    description: Description = Field(description="the relationship in words")


class DataModel(_SeedShape):
    model_config = ConfigDict(title="Data model")

    entities: list[Entity] = Field(min_length=1, max_length=80)
    relationships: list[Relationship] = Field(max_length=200)

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)


# ------------------------------------------------------------------------- naming rules
_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``AIProviderConfig`` → ``ai_provider_config``, ``avatarUrl`` → ``avatar_url``."""
    return _BOUNDARY.sub("_", name).replace("-", "_").lower()


def table_name(entity: str) -> str:
    """The SQL table of an entity: its name in snake_case (quoted in SQL, so ``user`` is fine)."""
    return snake_case(entity)


def column_name(field: str) -> str:
    return snake_case(field)


def join_table_name(relationship: Relationship) -> str:
    """The link table a many-to-many relationship compiles to."""
    return f"{table_name(relationship.from_)}_{table_name(relationship.to)}"


def key_holder(relationship: Relationship) -> tuple[str, str] | None:
    """(entity that holds the foreign key field, the entity it references), or None for
    many-to-many (a join table holds the keys)."""
    if relationship.type == "many-to-one":
        return relationship.from_, relationship.to
    if relationship.type in ("one-to-many", "one-to-one"):
        return relationship.to, relationship.from_
    return None
