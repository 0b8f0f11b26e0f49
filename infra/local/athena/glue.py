"""Lake tables registered in the Glue Data Catalog (moto), as a crawler would leave them.

Each carries ``UPDATED_BY_CRAWLER`` like a crawler's table, which tells the query-time
reader (``infra.local.athena.tables``) to read it with the types its files carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from infra.local.athena.column_types import glue_type
from infra.local.athena.engine import ResultColumn
from infra.local.athena.lake import LakeTable
from infra.local.athena.tables import CRAWLER_PARAMETER

_TEXT_INPUT = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
}

_FORMATS: dict[str, dict[str, Any]] = {
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    },
    "csv": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            "Parameters": {"field.delim": ","},
        },
    },
    "json": {
        **_TEXT_INPUT,
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
    },
    "orc": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.orc.OrcSerde"},
    },
    "avro": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.avro.AvroSerDe"},
    },
}


def table_input(table: LakeTable, columns: Sequence[ResultColumn]) -> dict[str, Any]:
    """Glue's ``TableInput`` for a lake table; partition keys are not data columns."""
    partitions = {key.lower() for key in table.partition_keys}

    def glue_columns(selected: Sequence[ResultColumn]) -> list[dict[str, str]]:
        return [{"Name": c.name.lower(), "Type": glue_type(c.duckdb_type)} for c in selected]

    parameters = {
        "classification": table.file_format,
        "EXTERNAL": "TRUE",
        CRAWLER_PARAMETER: "local-data-lake",
    }
    if table.file_format == "csv":
        parameters["skip.header.line.count"] = "1"
    if table.compression:
        parameters["compressionType"] = table.compression
    return {
        "Name": table.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": glue_columns([c for c in columns if c.name.lower() in partitions]),
        "StorageDescriptor": {
            "Columns": glue_columns([c for c in columns if c.name.lower() not in partitions]),
            "Location": table.root.resolve().as_uri(),
            **_FORMATS[table.file_format],
        },
    }


def sync_tables(
    glue: Any,
    database: str,
    tables: Sequence[LakeTable],
    columns: Mapping[str, Sequence[ResultColumn]],
    previously_registered: set[str],
) -> set[str]:
    """Create/update the lake's tables in Glue, drop ones that left the lake; returns names."""
    try:
        glue.get_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(
            DatabaseInput={"Name": database, "Description": "local data lake (DuckDB)"}
        )
    existing = {
        table["Name"]
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=database)
        for table in page["TableList"]
    }
    for table in tables:
        description = table_input(table, columns[table.name])
        if table.name in existing:
            glue.update_table(DatabaseName=database, TableInput=description)
        else:
            glue.create_table(DatabaseName=database, TableInput=description)
    registered = {table.name for table in tables}
    for vanished in (previously_registered - registered) & existing:
        glue.delete_table(DatabaseName=database, Name=vanished)
    return registered
