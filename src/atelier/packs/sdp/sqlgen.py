"""Compile a data model to SQL for SQLite and PostgreSQL, deterministically.

The database stage never asks a model to write SQL: it compiles the data model, so the
schema always matches the entities and the same model always gives byte-identical SQL.
Anything the compiler cannot express safely (a relationship to a missing entity, an
index on an unknown column) is left out with a ``-- skipped:`` comment rather than
emitted as SQL that would fail.

Work happens in two steps: a dialect-free plan (tables, columns, keys, indexes, notes),
then one rendering per dialect.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier.packs.sdp.datamodel import (
    DataModel,
    Entity,
    EntityField,
    Relationship,
    column_name,
    join_table_name,
    key_holder,
    snake_case,
    table_name,
)

Dialect = Literal["sqlite", "postgresql"]
DIALECTS: tuple[Dialect, ...] = ("sqlite", "postgresql")
_DIALECT_LABEL: dict[Dialect, str] = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

# PostgreSQL silently truncates longer identifiers, which could make two index names equal.
_MAX_IDENTIFIER = 63


class IndexSpec(BaseModel):
    """An index beyond the automatic foreign-key ones, e.g. proposed by the database stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field(description="entity name (or the name of a many-to-many join table)")
    columns: tuple[str, ...] = Field(min_length=1, description="field names, in index order")
    unique: bool = Field(default=False, description="true for a UNIQUE index")
    reason: str = Field(default="", max_length=400, description="why the index exists")


def compile_sql(
    model: DataModel, dialect: Dialect, *, extra_indexes: Sequence[IndexSpec] = ()
) -> str:
    """The whole schema as one script for ``dialect``, ending with a newline."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {DIALECTS}")
    return _render(_Planner(model, extra_indexes).plan(), dialect)


def compile_all(model: DataModel, extra_indexes: Sequence[IndexSpec] = ()) -> dict[str, str]:
    """The schema for every dialect, keyed by dialect name."""
    plan = _Planner(model, extra_indexes).plan()
    return {dialect: _render(plan, dialect) for dialect in DIALECTS}


# ------------------------------------------------------------------------------- types
@dataclass(frozen=True)
class _ColumnType:
    kind: str  # canonical: uuid, string, text, integer, bigint, decimal, boolean, ...
    raw: str  # as written in the model, for comments
    values: tuple[str, ...] = ()  # enum values


_ALIASES = {
    "uuid": "uuid",
    "string": "string",
    "text": "text",
    "integer": "integer",
    "int": "integer",
    "bigint": "bigint",
    "decimal": "decimal",
    "number": "decimal",
    "float": "decimal",
    "money": "decimal",
    "boolean": "boolean",
    "bool": "boolean",
    "datetime": "datetime",
    "timestamp": "datetime",
    "date": "date",
    "json": "json",
    "jsonb": "json",
}

_SQL_TYPES: dict[str, dict[Dialect, str]] = {
    "uuid": {"postgresql": "UUID", "sqlite": "TEXT"},
    "string": {"postgresql": "VARCHAR(255)", "sqlite": "TEXT"},
    "text": {"postgresql": "TEXT", "sqlite": "TEXT"},
    "integer": {"postgresql": "INTEGER", "sqlite": "INTEGER"},
    "bigint": {"postgresql": "BIGINT", "sqlite": "INTEGER"},
    "decimal": {"postgresql": "NUMERIC(18,6)", "sqlite": "NUMERIC"},
    "boolean": {"postgresql": "BOOLEAN", "sqlite": "INTEGER"},
    "datetime": {"postgresql": "TIMESTAMPTZ", "sqlite": "TEXT"},
    "date": {"postgresql": "DATE", "sqlite": "TEXT"},
    "json": {"postgresql": "JSONB", "sqlite": "TEXT"},
    "enum": {"postgresql": "VARCHAR(255)", "sqlite": "TEXT"},
    "unknown": {"postgresql": "TEXT", "sqlite": "TEXT"},
}

_ENUM = re.compile(r"^enum\s*\((?P<values>.*)\)$", re.IGNORECASE | re.DOTALL)


def _parse_type(type_name: str) -> _ColumnType:
    raw = type_name.strip()
    enum = _ENUM.match(raw)
    if enum:
        values = tuple(v for v in (_unquote(p) for p in enum["values"].split(",")) if v)
        return _ColumnType("enum", raw, values) if values else _ColumnType("unknown", raw)
    key = re.sub(r"\s+", "", raw.lower())
    return _ColumnType(_ALIASES.get(key, "unknown"), raw)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _sql_type(column_type: _ColumnType, dialect: Dialect) -> str:
    return _SQL_TYPES[column_type.kind][dialect]


def _check(column: str, column_type: _ColumnType, dialect: Dialect) -> str | None:
    """The CHECK constraint that stands in for a type the dialect lacks."""
    if column_type.kind == "enum":
        values = ",".join(_literal(v) for v in column_type.values)
        return f"CHECK ({_quote(column)} IN ({values}))"
    if column_type.kind == "boolean" and dialect == "sqlite":
        return f"CHECK ({_quote(column)} IN (0,1))"
    return None


# ------------------------------------------------------------------------------- plan
@dataclass
class _Column:
    name: str
    type: _ColumnType
    required: bool
    note: str | None = None


@dataclass(frozen=True)
class _ForeignKey:
    name: str
    table: str
    column: str
    ref_table: str
    ref_column: str
    on_delete: str


@dataclass(frozen=True)
class _Index:
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool
    reason: str = ""


@dataclass
class _Table:
    name: str
    columns: list[_Column]
    primary_key: tuple[str, ...]
    fields: dict[str, str] = field(default_factory=dict)  # model field name → column
    foreign_keys: list[_ForeignKey] = field(default_factory=list)
    indexes: list[_Index] = field(default_factory=list)

    def column(self, name: str) -> _Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class _Plan:
    tables: list[_Table]  # entity tables, in dependency order
    join_tables: list[_Table]
    deferred: list[_ForeignKey]  # foreign keys that close a cycle
    notes: list[str]


class _Planner:
    """Turns a data model into a dialect-free plan, recording whatever it must skip."""

    def __init__(self, model: DataModel, extra_indexes: Iterable[IndexSpec]) -> None:
        self.model = model
        self.extra_indexes = list(extra_indexes)
        self.notes: list[str] = []
        self.tables: dict[str, _Table] = {}  # entity name → table
        self.join_tables: list[_Table] = []
        self.names: set[str] = set()  # relation names in use (PostgreSQL shares one namespace)

    def plan(self) -> _Plan:
        for entity in self.model.entities:
            self._add_entity(entity)
        for relationship in self.model.relationships:
            if relationship.type == "many-to-many":
                self._add_join_table(relationship)
            else:
                self._add_foreign_key(relationship)
        for table in self.tables.values():
            self._add_foreign_key_indexes(table)
        for spec in self.extra_indexes:
            self._add_extra_index(spec)
        ordered, deferred = _dependency_order(list(self.tables.values()))
        return _Plan(ordered, self.join_tables, deferred, self.notes)

    # -- entities
    def _add_entity(self, entity: Entity) -> None:
        name = table_name(entity.name)
        if entity.name in self.tables or name in self.names:
            self.notes.append(f"entity {entity.name}: table {_quote(name)} is already defined")
            return
        table = _Table(name, [], ())
        for entity_field in entity.fields:
            self._add_column(table, entity, entity_field)
        pk = _primary_key_field(entity)
        if pk is not None and table.fields.get(pk.name):
            table.primary_key = (table.fields[pk.name],)
        self.tables[entity.name] = table
        self.names.add(name)

    def _add_column(self, table: _Table, entity: Entity, entity_field: EntityField) -> None:
        name = column_name(entity_field.name)
        if table.column(name) is not None:
            self.notes.append(
                f"field {entity.name}.{entity_field.name}: column {_quote(name)} is already defined"
            )
            return
        column_type = _parse_type(entity_field.type)
        note = None
        if column_type.kind == "unknown":
            note = f"unknown type {_literal(_one_line(column_type.raw))}, stored as text"
        table.columns.append(_Column(name, column_type, entity_field.required, note))
        table.fields[entity_field.name] = name

    # -- relationships
    def _add_foreign_key(self, rel: Relationship) -> None:
        holder_name, target_name = key_holder(rel) or (rel.from_, rel.to)
        problem, holder, target = self._endpoints(holder_name, target_name)
        column = _field_column(holder, rel.foreign_key) if holder else None
        if problem is None and holder is not None and column is None:
            problem = f"{holder_name} has no field {rel.foreign_key!r}"
        if problem is not None or holder is None or target is None or column is None:
            self._skip(rel, problem or "")
            return
        existing = next((fk for fk in holder.foreign_keys if fk.column == column.name), None)
        if existing is not None:
            self._skip(rel, f"{holder.name}.{column.name} already references {existing.ref_table}")
            return
        ref = target.column(target.primary_key[0])
        assert ref is not None  # a primary key always names one of its table's columns
        if ref.type.kind != column.type.kind:
            if holder.primary_key == (column.name,):
                self._skip(rel, f"primary key {holder.name}.{column.name} has another type")
                return
            # A key must have its target's type; the relationship says which is the key.
            column.note = (
                f"type {_literal(_one_line(column.type.raw))} changed to match "
                f"{target.name}.{ref.name}"
            )
            column.type = ref.type
        on_delete = "CASCADE" if column.required else "SET NULL"
        fk_name = _identifier(f"fk_{holder.name}_{column.name}")
        holder.foreign_keys.append(
            _ForeignKey(fk_name, holder.name, column.name, target.name, ref.name, on_delete)
        )

    def _endpoints(
        self, holder_name: str, target_name: str
    ) -> tuple[str | None, _Table | None, _Table | None]:
        """(what is wrong, the holder's table, the target's table) for a relationship."""
        holder = self.tables.get(holder_name)
        target = self.tables.get(target_name)
        for name, table in ((holder_name, holder), (target_name, target)):
            if table is None:
                return f"entity {name!r} does not exist", holder, target
        assert target is not None
        if len(target.primary_key) != 1:
            return f"{target_name} has no primary key to reference", holder, target
        return None, holder, target

    def _add_join_table(self, rel: Relationship) -> None:
        problem, left, right = self._endpoints(rel.from_, rel.to)
        if problem is None and left is not None and len(left.primary_key) != 1:
            problem = f"{rel.from_} has no primary key to reference"
        name = join_table_name(rel)
        if problem is None and name in self.names:
            problem = f"table {_quote(name)} is already defined"
        if problem is not None or left is None or right is None:
            self._skip(rel, problem or "")
            return
        left_column = f"{snake_case(rel.from_)}_id"
        right_column = f"{snake_case(rel.to)}_id"
        if right_column == left_column:  # an entity linked to itself
            right_column = f"related_{right_column}"
        table = _Table(name, [], (left_column, right_column))
        for column, target in ((left_column, left), (right_column, right)):
            ref = target.column(target.primary_key[0])
            assert ref is not None
            table.columns.append(_Column(column, ref.type, required=True))
            table.fields[column] = column
            table.foreign_keys.append(
                _ForeignKey(
                    _identifier(f"fk_{name}_{column}"),
                    name,
                    column,
                    target.name,
                    ref.name,
                    "CASCADE",
                )
            )
        # The primary key's index already serves lookups by its first column.
        self._add_index(table, (right_column,), unique=False)
        self.join_tables.append(table)
        self.names.add(name)

    def _skip(self, rel: Relationship, why: str) -> None:
        self.notes.append(
            f"relationship {rel.from_} -> {rel.to} ({rel.type}, foreignKey "
            f"{rel.foreign_key}): {why}"
        )

    # -- indexes
    def _add_foreign_key_indexes(self, table: _Table) -> None:
        for fk in table.foreign_keys:
            if table.primary_key[:1] == (fk.column,):  # the primary key is indexed already
                continue
            if not self._add_index(table, (fk.column,), unique=False):
                self.notes.append(f"index on {table.name} ({fk.column}): name already in use")

    def _add_extra_index(self, spec: IndexSpec) -> None:
        every = [*self.tables.values(), *self.join_tables]
        table = self.tables.get(spec.table) or next(
            (t for t in every if t.name in (spec.table, table_name(spec.table))), None
        )
        if table is None:
            self.notes.append(f"index on {spec.table}: no such table")
            return
        columns = [_field_column(table, name) for name in spec.columns]
        missing = [n for n, c in zip(spec.columns, columns, strict=True) if c is None]
        if missing:
            self.notes.append(f"index on {spec.table}: no column {', '.join(missing)}")
            return
        names = tuple(c.name for c in columns if c is not None)
        if len(set(names)) != len(names):
            self.notes.append(f"index on {spec.table}: a column is listed twice")
            return
        if not self._add_index(table, names, unique=spec.unique, reason=spec.reason):
            self.notes.append(f"index on {spec.table} ({', '.join(names)}): already defined")

    def _add_index(
        self, table: _Table, columns: tuple[str, ...], *, unique: bool, reason: str = ""
    ) -> bool:
        prefix = "uq" if unique else "ix"
        name = _identifier(f"{prefix}_{table.name}_{'_'.join(columns)}")
        if name in self.names:
            return False
        table.indexes.append(_Index(name, table.name, columns, unique, _one_line(reason)))
        self.names.add(name)
        return True


def _primary_key_field(entity: Entity) -> EntityField | None:
    """The field named ``id``, else the first described as "Primary key"."""
    by_name = next((f for f in entity.fields if f.name.lower() == "id"), None)
    if by_name is not None:
        return by_name
    return next((f for f in entity.fields if f.description.lower().startswith("primary key")), None)


def _field_column(table: _Table, name: str) -> _Column | None:
    """A table's column by model field name, tolerating a different case or snake_case."""
    column = table.fields.get(name) or column_name(name)
    return table.column(column)


def _dependency_order(tables: list[_Table]) -> tuple[list[_Table], list[_ForeignKey]]:
    """Referenced tables first (ties in entity order), and the keys that close a cycle.

    When no remaining table has all its targets created, the first one in entity order
    goes next anyway, and its keys to tables not created yet are the cycle's keys.
    """
    remaining = list(tables)
    done: set[str] = set()
    ordered: list[_Table] = []
    deferred: list[_ForeignKey] = []

    def ready(table: _Table) -> bool:
        return all(fk.ref_table in done or fk.ref_table == table.name for fk in table.foreign_keys)

    while remaining:
        table = next((t for t in remaining if ready(t)), remaining[0])
        deferred += [
            fk
            for fk in table.foreign_keys
            if fk.ref_table not in done and fk.ref_table != table.name
        ]
        remaining.remove(table)
        done.add(table.name)
        ordered.append(table)
    return ordered, deferred


# ------------------------------------------------------------------------------- render
def _render(plan: _Plan, dialect: Dialect) -> str:
    # PostgreSQL checks a REFERENCES target when the table is created, SQLite only on use.
    deferred = set(plan.deferred) if dialect == "postgresql" else set()
    blocks = [_header(plan, dialect)]
    for table in plan.tables:
        blocks.append(_create_table(table, dialect, deferred))
    if deferred:
        blocks.append(
            "-- Foreign keys that close a cycle, added once every table exists.\n"
            + "\n".join(_add_constraint(fk) for fk in plan.deferred)
        )
    for table in plan.join_tables:
        blocks.append(_create_table(table, dialect, deferred))
    return "\n\n".join(blocks) + "\n"


def _header(plan: _Plan, dialect: Dialect) -> str:
    lines = [
        f"-- {_DIALECT_LABEL[dialect]} schema generated from the data model by Atelier.",
        "-- Do not edit: change the data model and compile again.",
    ]
    lines += [f"-- skipped: {_one_line(note)}" for note in plan.notes]
    return "\n".join(lines)


def _create_table(table: _Table, dialect: Dialect, deferred: set[_ForeignKey]) -> str:
    items: list[tuple[str, str | None]] = [
        (_column_definition(table, column, dialect), column.note) for column in table.columns
    ]
    if len(table.primary_key) > 1:
        items.append((f"PRIMARY KEY ({_quote_all(table.primary_key)})", None))
    items += [(_foreign_key(fk), None) for fk in table.foreign_keys if fk not in deferred]
    lines = [f"CREATE TABLE {_quote(table.name)} ("]
    for i, (text, comment) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"  {text}{comma}" + (f"  -- {comment}" if comment else ""))
    lines.append(");")
    lines += [_create_index(index) for index in table.indexes]
    return "\n".join(lines)


def _column_definition(table: _Table, column: _Column, dialect: Dialect) -> str:
    parts = [_quote(column.name), _sql_type(column.type, dialect)]
    if table.primary_key == (column.name,):
        parts.append("PRIMARY KEY")
        # SQLite, unlike PostgreSQL, lets a non-INTEGER primary key hold NULL.
        if dialect == "sqlite":
            parts.append("NOT NULL")
    elif column.required:
        parts.append("NOT NULL")
    check = _check(column.name, column.type, dialect)
    if check:
        parts.append(check)
    return " ".join(parts)


def _foreign_key(fk: _ForeignKey) -> str:
    return (
        f"CONSTRAINT {_quote(fk.name)} FOREIGN KEY ({_quote(fk.column)}) "
        f"REFERENCES {_quote(fk.ref_table)} ({_quote(fk.ref_column)}) ON DELETE {fk.on_delete}"
    )


def _add_constraint(fk: _ForeignKey) -> str:
    return f"ALTER TABLE {_quote(fk.table)} ADD {_foreign_key(fk)};"


def _create_index(index: _Index) -> str:
    unique = "UNIQUE " if index.unique else ""
    statement = (
        f"CREATE {unique}INDEX {_quote(index.name)} "
        f"ON {_quote(index.table)} ({_quote_all(index.columns)});"
    )
    return f"-- {index.reason}\n{statement}" if index.reason else statement


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _quote_all(identifiers: Iterable[str]) -> str:
    return ", ".join(_quote(i) for i in identifiers)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _one_line(text: str) -> str:
    """Text safe inside a ``--`` comment: a line break would end the comment early."""
    return " ".join(text.split())


def _identifier(name: str) -> str:
    """``name``, shortened with a hash of the whole so that it stays unique in PostgreSQL."""
    if len(name) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_IDENTIFIER - 9]}_{digest}"


# ------------------------------------------------------------------------------- reading
_TABLE_NAME = r'(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_$]*)'
_CREATE_TABLE = re.compile(
    r"\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_TABLE_NAME}(?:\s*\.\s*{_TABLE_NAME})?)",
    re.IGNORECASE,
)
_CODE_NOISE = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|(\"(?:[^\"]|\"\")*\")", re.DOTALL)


def tables_in_sql(sql: str) -> list[str]:
    """The tables a script creates, in order, for cross-checking against the data model.

    Comments and string literals are ignored; schema prefixes are dropped; unquoted names
    are lowercased (as PostgreSQL folds them); each name is listed once.
    """
    code = _CODE_NOISE.sub(lambda m: m[1] or " ", sql)
    names: list[str] = []
    for match in _CREATE_TABLE.finditer(code):
        name = _unquote_identifier(_split_qualified(match["name"])[-1])
        if name not in names:
            names.append(name)
    return names


def _split_qualified(name: str) -> list[str]:
    return [part.strip() for part in re.findall(rf"{_TABLE_NAME}", name)]


def _unquote_identifier(name: str) -> str:
    if name.startswith('"'):
        return name[1:-1].replace('""', '"')
    if name[0] in "`[":
        return name[1:-1]
    return name.lower()
