# Helpers of the pair generation stage (included from common.smk; rules are in pairs.smk).
# Pairs are made for every dataset whose purpose is "distill"; methods are the names configured
# under pairs.methods (default: central, random, detector).

PAIRS_CONFIG = config.get("pairs") or {}
PAIRS_METHODS = list((PAIRS_CONFIG.get("methods") or {"central": {}, "random": {}, "detector": {}}))
DISTILL_DATASETS = [name for name, entry in DATASETS.items() if entry.get("purpose") == "distill"]


wildcard_constraints:
    method="|".join(PAIRS_METHODS) if PAIRS_METHODS else "NO_PAIRS_METHODS",


def pairs_file(dataset, method, suffix=".parquet"):
    """results/pairs/<dataset>/<method><suffix> (suffix .parquet, .boxes.parquet, .summary.json)."""
    return f"{RESULTS}/pairs/{dataset}/{method}{suffix}"


def pairs_quality_runs(wildcards=None):
    """Every (distill dataset, method) run the quality report covers, with its GT manifests."""
    return [
        {
            "pairs": pairs_file(d, m),
            "boxes": pairs_file(d, m, ".boxes.parquet"),
            "summary": pairs_file(d, m, ".summary.json"),
            "objects": manifest(d, "objects"),
            "frames": manifest(d, "frames"),
        }
        for d in DISTILL_DATASETS
        for m in PAIRS_METHODS
    ]


def pairs_quality_inputs(wildcards=None):
    """All files pairs_quality reads (the quality report alone reads the GT manifests)."""
    files = []
    for run in pairs_quality_runs():
        files += [run["pairs"], run["boxes"], run["summary"], run["objects"], run["frames"]]
    return sorted(set(files))


def pairs_targets():
    """Every pair manifest, the quality table and one contact sheet per dataset and method."""
    if not DISTILL_DATASETS or not PAIRS_METHODS:
        return []
    return [
        expand(pairs_file("{dataset}", "{method}"), dataset=DISTILL_DATASETS, method=PAIRS_METHODS),
        f"{RESULTS}/tables/pairs_quality.csv",
        f"{RESULTS}/tables/pairs_quality.md",
        expand(f"{RESULTS}/plots/pairs_{{dataset}}_{{method}}.png", dataset=DISTILL_DATASETS, method=PAIRS_METHODS),
    ]
