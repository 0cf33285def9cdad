"""Dataset adapters: one function per layout, `(root, split, options) -> list[SequenceSpec]`.

Adapters only describe sequences (paths, parsed GT, labels, objects, problems found while
parsing); `cmd_core.datasets.ingest` verifies and builds the manifests. `options` is a dict of
key=value strings; an adapter pops the keys it understands and the engine refuses leftovers.

Coordinate origins: every adapter keeps box values as the source writes them (the formats
document states no origin for these files), converting only the box *convention* to x, y, w, h:
corners (GTOT: w = x2 - x1), polygons (VOT: min/max box), VOC bndbox (w = xmax - xmin).
"""

from __future__ import annotations

from typing import Callable

from cmd_core.datasets.adapters.generic_pairs import generic_pairs
from cmd_core.datasets.adapters.kaist import kaist
from cmd_core.datasets.adapters.llvip import llvip
from cmd_core.datasets.adapters.lsotb_train import lsotb_train
from cmd_core.datasets.adapters.rgb_tracking import got10k, lasot
from cmd_core.datasets.adapters.rgbt_pairs import gtot, lasher, rgbt234
from cmd_core.datasets.adapters.side_by_side import cmd_side_by_side
from cmd_core.datasets.adapters.synthetic import synthetic
from cmd_core.datasets.adapters.tir_benchmarks import lsotb_eval, ptb_tir
from cmd_core.datasets.adapters.vot import vot, vot_rgbt
from cmd_core.datasets.adapters.vtuav import vtuav

ADAPTERS: dict[str, Callable] = {
    "synthetic": synthetic,
    "rgbt234": rgbt234,
    "lasher": lasher,
    "gtot": gtot,
    "kaist": kaist,
    "llvip": llvip,
    "vot_rgbt": vot_rgbt,
    "vot": vot,
    "cmd_side_by_side": cmd_side_by_side,
    "generic_pairs": generic_pairs,
    "lsotb_eval": lsotb_eval,
    "lsotb_train": lsotb_train,
    "ptb_tir": ptb_tir,
    "got10k": got10k,
    "lasot": lasot,
    "vtuav": vtuav,
}


def get_adapter(fmt: str) -> Callable:
    """The adapter for format `fmt`, wrapped so unknown options are refused."""
    try:
        fn = ADAPTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown dataset format {fmt!r} (known: {', '.join(sorted(ADAPTERS))})") from None

    def run(root, split, options):
        opts = dict(options or {})
        seqs = fn(root, split, opts)
        if opts:
            raise ValueError(f"format {fmt!r}: unknown option(s) {sorted(opts)}")
        return seqs
    return run
