"""The three manifest kinds (frames, objects, rejected) as explicit pyarrow schemas.

Every manifest is checked against its schema before it is written: exact column names and order,
exact types, and no nulls in non-nullable columns. The schema metadata carries the manifest kind
and `MANIFEST_VERSION`, so readers can refuse a manifest they do not understand.

Box convention (all kinds): `x, y, w, h` in pixels, top-left corner plus size, in the source's own
origin (see `cmd_core.datasets.adapters` for which sources are 0- or 1-based; values are kept as
the source wrote them where the formats document does not say).
"""

from __future__ import annotations

import pyarrow as pa

MANIFEST_VERSION = "1"

PACKINGS = ("files", "side_by_side", "video")
MODALITIES = ("rgb", "tir", "both")


def _schema(kind: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(fields, metadata={b"cmd_manifest_kind": kind.encode(),
                                       b"cmd_manifest_version": MANIFEST_VERSION.encode()})


def _f(name: str, typ: pa.DataType, nullable: bool) -> pa.Field:
    return pa.field(name, typ, nullable=nullable)


FRAMES_SCHEMA = _schema("frames", [
    _f("dataset", pa.string(), False),
    _f("split", pa.string(), False),
    _f("sequence", pa.string(), False),
    _f("frame", pa.int32(), False),
    _f("packing", pa.string(), False),
    _f("rgb_path", pa.string(), True),
    _f("tir_path", pa.string(), True),
    _f("rgb_width", pa.int32(), True),
    _f("rgb_height", pa.int32(), True),
    _f("tir_width", pa.int32(), True),
    _f("tir_height", pa.int32(), True),
    *[_f(f"gt_rgb_{k}", pa.float64(), True) for k in "xywh"],
    *[_f(f"gt_tir_{k}", pa.float64(), True) for k in "xywh"],
    _f("gt_rgb_valid", pa.bool_(), False),
    _f("gt_tir_valid", pa.bool_(), False),
    _f("absent", pa.bool_(), True),
    _f("occlusion", pa.float32(), True),
    _f("attributes", pa.string(), True),
])

OBJECTS_SCHEMA = _schema("objects", [
    _f("dataset", pa.string(), False),
    _f("split", pa.string(), False),
    _f("sequence", pa.string(), False),
    _f("frame", pa.int32(), False),
    _f("object_id", pa.string(), True),
    _f("label", pa.string(), True),
    _f("modality", pa.string(), False),
    *[_f(k, pa.float64(), False) for k in "xywh"],
    _f("occluded", pa.bool_(), True),
    _f("ignore", pa.bool_(), False),
])

REJECTED_SCHEMA = _schema("rejected", [
    _f("dataset", pa.string(), False),
    _f("sequence", pa.string(), True),
    _f("frame", pa.int32(), True),
    _f("file", pa.string(), False),
    _f("line", pa.int32(), True),
    _f("reason", pa.string(), False),
])

SCHEMAS: dict[str, pa.Schema] = {"frames": FRAMES_SCHEMA, "objects": OBJECTS_SCHEMA,
                                 "rejected": REJECTED_SCHEMA}

# Closed vocabularies checked on top of the types.
_ALLOWED = {("frames", "packing"): PACKINGS, ("objects", "modality"): MODALITIES}


def schema_for(kind: str) -> pa.Schema:
    """The schema of manifest `kind` ("frames", "objects" or "rejected")."""
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise ValueError(f"unknown manifest kind {kind!r} (expected one of {sorted(SCHEMAS)})") from None


def validate_table(table: pa.Table, kind: str) -> pa.Table:
    """Check `table` against the `kind` schema; return it with the schema's metadata attached.

    Raises ValueError naming the column and the problem: a missing or unexpected column, columns
    out of order, a wrong type, a null in a non-nullable column, or a value outside a closed
    vocabulary (packing, modality). No implicit casts: the adapters must build the right types.
    """
    schema = schema_for(kind)
    check_table(table, schema, {col: v for (k, col), v in _ALLOWED.items() if k == kind}, f"{kind} manifest")
    return table.cast(schema)


def empty_table(kind: str) -> pa.Table:
    """An empty, valid manifest of `kind` (the objects manifest is always written, even if empty)."""
    return schema_for(kind).empty_table()


def check_table(table: pa.Table, schema: pa.Schema, allowed: dict[str, tuple[str, ...]], label: str) -> None:
    """Raise ValueError (prefixed with `label`) unless `table` has exactly the columns of `schema`,
    in order, with its types, no nulls in non-nullable columns and only `allowed` values in the
    closed-vocabulary columns. Shared by every manifest kind (frames, objects, rejected, pairs)."""
    names = table.column_names
    missing = [n for n in schema.names if n not in names]
    if missing:
        raise ValueError(f"{label}: missing column(s) {missing}")
    extra = [n for n in names if n not in schema.names]
    if extra:
        raise ValueError(f"{label}: unexpected column(s) {extra}")
    if names != schema.names:
        raise ValueError(f"{label}: columns out of order: {names} (expected {schema.names})")
    for field in schema:
        col = table.column(field.name)
        if not col.type.equals(field.type):
            raise ValueError(f"{label}: column {field.name!r} has type {col.type}, expected {field.type}")
        if not field.nullable and col.null_count:
            raise ValueError(f"{label}: column {field.name!r} has {col.null_count} null(s) but is not nullable")
        vocabulary = allowed.get(field.name)
        if vocabulary is not None and len(col):
            bad = set(col.unique().to_pylist()) - set(vocabulary)
            if bad:
                raise ValueError(f"{label}: column {field.name!r} has value(s) {sorted(map(str, bad))}, "
                                 f"allowed {list(vocabulary)}")


def read_manifest(path, kind: str, columns: list[str] | None = None, missing_hint: str = ""):
    """Read a manifest of `kind` (checked in the schema metadata) as a DataFrame, optionally only
    `columns`; FileNotFoundError / ValueError name the file."""
    from pathlib import Path

    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {kind} manifest does not exist{missing_hint}")
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError) as exc:  # pyarrow names no file: e.g. "Parquet magic bytes not found"
        raise ValueError(f"{path}: not a readable Parquet file ({exc})") from None
    found = meta.get(b"cmd_manifest_kind", b"").decode()
    if found != kind:
        raise ValueError(f"{path}: not a {kind} manifest (kind {found!r})")
    return pq.read_table(path, columns=columns).to_pandas()
