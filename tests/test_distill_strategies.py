"""Strategy validation: defaults resolve, clear errors for unknown pair methods / components / losses."""

from __future__ import annotations

import pytest

from cmd_core.distill.strategies import (DEFAULT_STRATEGIES, StrategyError, resolve_strategies, resolve_strategy,
                                         strategy_pairs_method)


def test_default_strategies_resolve():
    s = resolve_strategies()
    for name in ("official", "mimic_response", "full", "full_central", "full_random", "full_clf_only",
                 "full_iou_only"):
        assert name in s
    assert s["official"]["mode"] == "official" and s["official"]["backbone"] == "frozen"
    assert s["full_central"]["pairs"] == "central" and s["full_random"]["pairs"] == "random"
    assert s["full_clf_only"]["components"] == ["classifier"]
    assert s["full_iou_only"]["components"] == ["iou"]
    assert s["full"]["losses"]["feature"] > 0 and s["full"]["losses"]["iou"] > 0
    assert strategy_pairs_method("full_random") == "random"


@pytest.mark.parametrize("bad, match", [
    ({"pairs": "yolo9000"}, "unknown pair method 'yolo9000'"),
    ({"pairs": "central", "components": ["classifier", "tail"]}, r"unknown component\(s\) \['tail'\]"),
    ({"pairs": "central", "components": []}, "unknown component"),
    ({"pairs": "central", "mode": "magic"}, "unknown mode 'magic'"),
    ({"pairs": "central", "backbone": "half"}, "backbone must be one of"),
    ({"pairs": "central", "losses": {"featur": 1.0}}, r"unknown loss\(es\) \['featur'\]"),
    ({"pairs": "central", "losses": {"feature": 0.0}}, "every loss weight is 0"),
    ({"pairs": "central", "losses": {"feature": 1, "response_type": "js"}}, "response_type"),
    ({"pairs": "central", "losses": {"feature": 1, "feature_layers": ["layer9"]}}, "unknown feature layer"),
    ({"pairs": "central", "lossez": {}}, r"unknown key\(s\) \['lossez'\]"),
    ({"mode": "official"}, "'pairs'"),
])
def test_bad_strategies_raise_clear_errors(bad, match):
    with pytest.raises(StrategyError, match=match):
        resolve_strategy({"losses": {"feature": 1.0}, **bad} if "losses" not in bad and bad.get("mode") != "official"
                         else bad, name="x")


def test_unknown_name_and_configured_pair_methods():
    with pytest.raises(StrategyError, match="unknown distillation strategy 'nope'"):
        resolve_strategy("nope")
    # a pair method configured under another name is accepted only when it is configured
    s = {"pairs": "yolo", "mode": "official"}
    assert resolve_strategy(s, name="y", pair_methods=["yolo"])["pairs"] == "yolo"
    with pytest.raises(StrategyError, match="configured pair methods"):
        resolve_strategy(s, name="y", pair_methods=["central"])
    assert set(DEFAULT_STRATEGIES) <= set(resolve_strategies(pair_methods=["central", "random", "detector"]))


def test_defaults_agree_across_library_schema_and_workflow():
    """The demo strategies live in the library and the config schema (the workflow reads the
    validated config and keeps no copy of its own); the two must not drift apart."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    schema = yaml.safe_load((root / "workflow/schemas/config.schema.yaml").read_text())
    assert schema["properties"]["distill"]["properties"]["strategies"]["default"] == DEFAULT_STRATEGIES
    src = (root / "workflow/rules/distill_common.smk").read_text()
    assert "DEFAULT" not in src and 'DISTILL = config["distill"]' in src


def test_batchnorm_setting():
    assert resolve_strategy("full")["batchnorm"] == "train"
    with pytest.raises(StrategyError, match="batchnorm must be one of"):
        resolve_strategy({"pairs": "central", "mode": "official", "batchnorm": "sometimes"}, name="b")


def test_validated_default_config_strategies_resolve():
    """The workflow validates config (filling schema defaults) before jobs resolve the strategies:
    the filled-in config must still give valid strategies (no loss of the other mode added)."""
    from pathlib import Path

    import yaml
    from snakemake.utils import validate

    root = Path(__file__).resolve().parents[1]
    cfg = yaml.safe_load((root / "config/config.yaml").read_text())
    cfg["distill"] = {"strategies": {"mine": {"pairs": "random", "mode": "distill", "losses": {"response": 1.0}}}}
    validate(cfg, str(root / "workflow/schemas/config.schema.yaml"))
    resolved = resolve_strategies(cfg["distill"]["strategies"])
    assert resolved["mine"]["losses"]["response"] == 1.0 and "clf" not in resolved["mine"]["losses"]
    default_cfg = yaml.safe_load((root / "config/config.yaml").read_text())
    validate(default_cfg, str(root / "workflow/schemas/config.schema.yaml"))
    assert set(resolve_strategies(default_cfg["distill"]["strategies"])) == set(DEFAULT_STRATEGIES)
