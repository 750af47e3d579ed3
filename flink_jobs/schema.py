"""Column specs of a source table, read from its Flink DDL (sql/sources), and
the Flink types built from them. The DDL is the one place a table's columns
are written down for the job."""

from __future__ import annotations

from dataclasses import dataclass

from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.table import DataTypes, Schema, StreamTableEnvironment
from pyflink.table.types import (
    BigIntType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    IntType,
    SmallIntType,
    VarCharType,
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # BIGINT, INT, SMALLINT, STRING, BOOLEAN, DECIMAL, DATE
    nullable: bool
    precision: int = 0
    scale: int = 0


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _column(name: str, data_type: DataType) -> Column:
    nullable = data_type._nullable
    if isinstance(data_type, BigIntType):
        return Column(name, "BIGINT", nullable)
    if isinstance(data_type, IntType):
        return Column(name, "INT", nullable)
    if isinstance(data_type, SmallIntType):
        return Column(name, "SMALLINT", nullable)
    if isinstance(data_type, VarCharType):
        return Column(name, "STRING", nullable)
    if isinstance(data_type, BooleanType):
        return Column(name, "BOOLEAN", nullable)
    if isinstance(data_type, DecimalType):
        return Column(name, "DECIMAL", nullable, data_type.precision, data_type.scale)
    if isinstance(data_type, DateType):
        return Column(name, "DATE", nullable)
    raise ValueError(f"column {name}: type {data_type} is not supported by the job")


def read_table_spec(
    t_env: StreamTableEnvironment, table: str, primary_key: tuple[str, ...]
) -> TableSpec:
    schema = t_env.from_path(f"`{table}`").get_schema()
    columns = tuple(
        _column(n, t)
        for n, t in zip(schema.get_field_names(), schema.get_field_data_types(), strict=True)
    )
    return TableSpec(table, columns, primary_key)


def type_info(spec: TableSpec) -> TypeInformation:
    by_kind = {
        "BIGINT": Types.LONG(),
        "INT": Types.INT(),
        "SMALLINT": Types.SHORT(),
        "STRING": Types.STRING(),
        "BOOLEAN": Types.BOOLEAN(),
        "DECIMAL": Types.BIG_DEC(),
        "DATE": Types.SQL_DATE(),
    }
    return Types.ROW_NAMED(spec.column_names, [by_kind[c.kind] for c in spec.columns])


def _data_type(c: Column) -> DataType:
    if c.kind == "DECIMAL":
        return DataTypes.DECIMAL(c.precision, c.scale)
    if c.kind == "DATE":
        # Types.SQL_DATE carries java.sql.Date, not the default LocalDate.
        return DataTypes.DATE().bridged_to("java.sql.Date")
    simple: dict[str, DataType] = {
        "BIGINT": DataTypes.BIGINT(),
        "INT": DataTypes.INT(),
        "SMALLINT": DataTypes.SMALLINT(),
        "STRING": DataTypes.STRING(),
        "BOOLEAN": DataTypes.BOOLEAN(),
    }
    return simple[c.kind]


def changelog_schema(spec: TableSpec) -> Schema:
    """The schema of a table's changelog, deliberately WITHOUT a primary key.

    With a key, Flink's joins keep one row per key and retract by key, which
    assumes that the -U of a row always arrives before the +U of its new
    version. At parallelism > 1 that does not hold: when an update changes a
    column that an upstream exchange partitions by (a product moving to another
    category), the two messages travel through different subtasks. Without a
    key, the joins keep rows as a multiset and retract by content, so the order
    between different images of one row no longer matters; the same image
    always takes the same path, so its +1 always precedes its -1.
    """
    builder = Schema.new_builder()
    for c in spec.columns:
        data_type = _data_type(c)
        if not c.nullable or c.name in spec.primary_key:
            data_type = data_type.not_null()
        builder = builder.column(c.name, data_type)
    return builder.build()
