"""High-level evaluation: ground truth + several trackers' result folders -> evaluations."""

from __future__ import annotations

import logging
from pathlib import Path

from .engine import TrackerEvaluation, evaluate_tracker
from .protocols import VTUAV, Protocol, get_protocol
from .readers import detect_gt_format, got10k_missing_reason, read_ground_truth, read_results, read_sequence_list

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
    allow_missing: bool = False,
) -> tuple[list[TrackerEvaluation], dict[str, list[str]]]:
    """Evaluate every tracker of ``results`` ({name: folder}) on the same sequences.

    A sequence without a result file for some tracker is left out for all trackers (so scores
    stay comparable) and reported in the returned {tracker: [missing sequences]}; nothing is
    skipped silently. Raises ValueError if no sequence is left. A protocol with
    ``require_complete`` (got10k) instead raises FileNotFoundError naming each sequence without
    results or without its time file, unless ``allow_missing`` (then those sequences are left out
    and listed, and those without times only lose their speed, with a warning).
    """
    p = get_protocol(protocol)
    if isinstance(sequences, (str, Path)):
        sequences = read_sequence_list(sequences)
    modality = modality or ("both" if p.dual_gt else "infrared")
    fmt = detect_gt_format(gt) if gt_format == "auto" else gt_format
    if p.validity == "cover" and fmt != "got10k":
        raise ValueError(f"{gt}: the {p.name} protocol reads a GOT-10k split folder (<seq>/groundtruth.txt, "
                         f"cover.label, meta_info.ini), not {fmt!r} ground truth")
    if fmt == "vtuav" and p.frame_step != VTUAV.frame_step:
        raise ValueError(f"{gt}: VTUAV ground truth annotates every {VTUAV.frame_step}th frame only; the {p.name} "
                         "protocol would score the frames between as invalid ground truth (use --protocol vtuav)")
    ground_truth = read_ground_truth(gt, gt_format, sequences, modality=modality, column_prefix=column_prefix)
    seqs = list(sequences) if sequences else list(ground_truth)
    if not seqs:
        raise ValueError(f"{gt}: no sequences found")
    loaded, missing = {}, {}
    for name, folder in results.items():
        loaded[name], missing[name] = read_results(folder, seqs, tracker=name, box_format=box_format,
                                                   layout=p.result_layout)
    if p.require_complete:
        _check_complete(p, results, loaded, missing, allow_missing)
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


def _check_complete(p: Protocol, folders: dict[str, str | Path], loaded: dict, missing: dict[str, list[str]],
                    allow_missing: bool) -> None:
    """A protocol that scores only complete results (GOT-10k: every sequence, each with its time
    file): raise naming what is absent, or, with ``allow_missing``, warn about the time files."""
    problems = []
    for name, folder in folders.items():
        folder = Path(folder)
        for s in missing[name]:
            reason = got10k_missing_reason(folder, s, name) if p.result_layout == "got10k" else f"sequence {s}: no results"
            problems.append(f"{name}: {reason}")
        no_time = [s for s, t in loaded[name].items() if t.times is None]
        if no_time and allow_missing:
            log.warning("%s: no time file for %d sequence(s), speed left out for them: %s", name, len(no_time),
                        ", ".join(no_time[:10]) + (" ..." if len(no_time) > 10 else ""))
        elif no_time:
            problems += [f"{name}: sequence {s}: no time file {folder / s / f'{s}_time.txt'}" for s in no_time]
    if problems and not allow_missing:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise FileNotFoundError(f"incomplete results for the {p.name} protocol, which scores every sequence with its "
                                f"time file, as the {p.benchmark} toolkit and server need: " + "; ".join(problems[:10])
                                + more + " (--allow-missing scores the rest and lists what is left out)")
