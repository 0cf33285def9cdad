"""CMD side-by-side frames: one image per instant, RGB in the left half and TIR in the right
(e.g. 512x1280 for 640x512 pairs). Root is a folder of images (one sequence, named after the
folder) or a folder of such folders. Both paths of a row point to the same file; the recorded
sizes are those of one half. An odd image width is reported (halves would not be equal).
"""

from __future__ import annotations

from pathlib import Path

from cmd_core.datasets.adapters.common import child_dirs
from cmd_core.datasets.listing import IMAGE_EXTS, list_images
from cmd_core.datasets.spec import SequenceSpec


def _has_images(p: Path) -> bool:
    return any(c.is_file() and c.suffix.lower() in IMAGE_EXTS for c in p.iterdir())


def cmd_side_by_side(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    return [SequenceSpec(name=d.name, split=split, packing="side_by_side", rgb=list_images(d))
            for d in child_dirs(root, _has_images)]
