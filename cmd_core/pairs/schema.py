"""The pair manifest and the per-frame box table as explicit pyarrow schemas, checked on write.

Pairs (`PAIRS_SCHEMA`): one row per training pair. Boxes are x, y, w, h in pixels (0-based,
top-left corner plus size) in the template / search frame's own image. `tracklet_id` is null for
same-instant pairs from box sources without tracking; `time_gap` = search_frame - template_frame.

Boxes (`BOXES_SCHEMA`): every box the method kept per frame after fusion (plus fallback boxes),
with its tracklet id; the quality report computes boxes per frame and tracking metrics from it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cmd_core.datasets.schema import check_table

PAIRS_VERSION = "1"
MODALITIES = ("rgb", "tir")
BOX_MODALITIES = ("rgb", "tir", "both")


def _schema(kind: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(fields, metadata={b"cmd_manifest_kind": kind.encode(),
                                       b"cmd_pairs_version": PAIRS_VERSION.encode()})


def _box(prefix: str) -> list[pa.Field]:
    return [pa.field(f"{prefix}_{k}", pa.float64(), nullable=False) for k in "xywh"]


PAIRS_SCHEMA = _schema("pairs", [
    pa.field("pair_id", pa.int64(), nullable=False),
    pa.field("dataset", pa.string(), nullable=False),
    pa.field("method", pa.string(), nullable=False),
    pa.field("sequence", pa.string(), nullable=False),
    pa.field("template_frame", pa.int32(), nullable=False),
    pa.field("template_modality", pa.string(), nullable=False),
    pa.field("search_frame", pa.int32(), nullable=False),
    pa.field("search_modality", pa.string(), nullable=False),
    *_box("template"),
    *_box("search"),
    pa.field("source", pa.string(), nullable=False),
    pa.field("label", pa.string(), nullable=True),
    pa.field("confidence", pa.float32(), nullable=True),
    pa.field("tracklet_id", pa.int32(), nullable=True),
    pa.field("time_gap", pa.int32(), nullable=False),
    pa.field("fallback", pa.bool_(), nullable=False),
])

BOXES_SCHEMA = _schema("pair_boxes", [
    pa.field("dataset", pa.string(), nullable=False),
    pa.field("method", pa.string(), nullable=False),
    pa.field("sequence", pa.string(), nullable=False),
    pa.field("frame", pa.int32(), nullable=False),
    pa.field("modality", pa.string(), nullable=False),
    *[pa.field(k, pa.float64(), nullable=False) for k in "xywh"],
    pa.field("source", pa.string(), nullable=False),
    pa.field("label", pa.string(), nullable=True),
    pa.field("confidence", pa.float32(), nullable=True),
    pa.field("tracklet_id", pa.int32(), nullable=True),
    pa.field("fallback", pa.bool_(), nullable=False),
])

_ALLOWED = {
    "pairs": {"template_modality": MODALITIES, "search_modality": MODALITIES},
    "pair_boxes": {"modality": BOX_MODALITIES},
}


def validate(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Check `table` against `schema` exactly (names, order, types, nulls, vocabularies, sizes).

    Returns the table with the schema (and its version metadata) attached; raises ValueError
    naming the column and the problem. No implicit casts.
    """
    kind = schema.metadata[b"cmd_manifest_kind"].decode()
    check_table(table, schema, _ALLOWED[kind], f"{kind} table")
    names = table.column_names
    for w in [n for n in names if n.endswith("_w") or n == "w"]:
        h = w[:-1] + "h"
        if len(table) and (pc.any(pc.less_equal(table[w], 0)).as_py() or pc.any(pc.less_equal(table[h], 0)).as_py()):
            raise ValueError(f"{kind} table: non-positive box size in {w!r}/{h!r}")
    return table.replace_schema_metadata(schema.metadata)


def pairs_metadata(schema: pa.Schema, extra: dict[str, str]) -> pa.Schema:
    """`schema` with run information (method, seed, config JSON) added to its metadata."""
    meta = dict(schema.metadata)
    meta.update({f"cmd_pairs_{k}".encode(): str(v).encode() for k, v in extra.items()})
    return schema.with_metadata(meta)


def empty(schema: pa.Schema) -> pa.Table:
    """An empty valid table of `schema`."""
    return schema.empty_table()
