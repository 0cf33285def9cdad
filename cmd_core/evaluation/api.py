"""High-level evaluation: ground truth + several trackers' result folders -> evaluations."""

from __future__ import annotations

import logging
from pathlib import Path

from .engine import TrackerEvaluation, evaluate_tracker
from .protocols import VTUAV, Protocol, get_protocol
from .readers import detect_gt_format, read_ground_truth, read_results, read_sequence_list

log = logging.getLogger(__name__)


def evaluate_results(
    protocol: Protocol | str,
    gt: str | Path,
    results: dict[str, str | Path],
    sequences: list[str] | str | Path | None = None,
    gt_format: str = "auto",
    modality: str | None = None,
    column_prefix: str = "gt_",
    box_format: str = "xywh",
) -> tuple[list[TrackerEvaluation], dict[str, list[str]]]:
    """Evaluate every tracker of ``results`` ({name: folder}) on the same sequences.

    A sequence without a result file for some tracker is left out for all trackers (so scores
    stay comparable) and reported in the returned {tracker: [missing sequences]}; nothing is
    skipped silently. Raises ValueError if no sequence is left.
    """
    p = get_protocol(protocol)
    if isinstance(sequences, (str, Path)):
        sequences = read_sequence_list(sequences)
    modality = modality or ("both" if p.dual_gt else "infrared")
    if (detect_gt_format(gt) if gt_format == "auto" else gt_format) == "vtuav" and p.frame_step != VTUAV.frame_step:
        raise ValueError(f"{gt}: VTUAV ground truth annotates every {VTUAV.frame_step}th frame only; the {p.name} "
                         "protocol would score the frames between as invalid ground truth (use --protocol vtuav)")
    ground_truth = read_ground_truth(gt, gt_format, sequences, modality=modality, column_prefix=column_prefix)
    seqs = list(sequences) if sequences else list(ground_truth)
    if not seqs:
        raise ValueError(f"{gt}: no sequences found")
    loaded, missing = {}, {}
    for name, folder in results.items():
        loaded[name], missing[name] = read_results(folder, seqs, tracker=name, box_format=box_format)
    dropped = {s for m in missing.values() for s in m}
    for name, m in missing.items():
        if m:
            log.warning("%s: no results for %d sequence(s): %s", name, len(m), ", ".join(m[:10]) + (" ..." if len(m) > 10 else ""))
    common = [s for s in seqs if s not in dropped]
    if not common:
        raise ValueError("no sequence has results from every tracker; see the missing list")
    if dropped:
        log.warning("%d sequence(s) left out for all trackers (missing somewhere): %s", len(dropped), ", ".join(sorted(dropped)))
    evals = [evaluate_tracker(name, loaded[name], ground_truth, p, common) for name in results]
    return evals, {k: v for k, v in missing.items() if v}
