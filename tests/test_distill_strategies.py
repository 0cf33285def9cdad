"""Strategy validation: defaults resolve, clear errors for unknown pair methods / components / losses."""

from __future__ import annotations

import pytest

from cmd_core.distill.strategies import DEFAULT_STRATEGIES, StrategyError, resolve_strategies, resolve_strategy


def test_default_strategies_resolve():
    s = resolve_strategies()
    assert sorted(s) == ["full", "full_central", "full_random", "official"]
    assert s["official"]["mode"] == "official" and s["official"]["backbone"] == "frozen"
    assert s["full_central"]["pairs"] == "central" and s["full_random"]["pairs"] == "random"
    assert s["full"]["losses"]["feature"] > 0 and s["full"]["losses"]["iou"] > 0
    assert {k: v for k, v in s["full_central"].items() if k not in ("pairs", "name")} == \
        {k: v for k, v in s["full"].items() if k not in ("pairs", "name")}


def test_random_init_teacher_comes_with_the_ablation_overlay_only():
    """The pretraining ablation (teacher from random weights) is off in config/config.yaml and the
    schema, and config/ablations.yaml turns it on (merged as snakemake merges --configfile files)."""
    import yaml
    from snakemake.utils import update_config

    from cmd_core.config_schema import validate_config

    from conftest import PROJECT_ROOT

    default = yaml.safe_load((PROJECT_ROOT / "config/config.yaml").read_text())
    merged = yaml.safe_load((PROJECT_ROOT / "config/config.yaml").read_text())
    update_config(merged, yaml.safe_load((PROJECT_ROOT / "config/ablations.yaml").read_text()))
    assert validate_config({})["experiment"]["random_init_teacher"] is False
    assert validate_config(default)["experiment"]["random_init_teacher"] is False
    merged = validate_config(merged)
    assert merged["experiment"]["random_init_teacher"] is True
    assert merged["experiment"]["baselines"] == default["experiment"]["baselines"]  # the rest of the section kept


def test_ablation_overlay_adds_the_loss_and_component_ablations():
    """config/ablations.yaml keeps the default four unchanged and adds three ablations of full."""
    from conftest import ablation_strategies

    s = resolve_strategies(ablation_strategies())
    assert {n: s[n] for n in DEFAULT_STRATEGIES} == resolve_strategies()
    assert sorted(set(s) - set(DEFAULT_STRATEGIES)) == ["full_clf_only", "full_iou_only", "mimic_response"]
    assert s["full_clf_only"]["components"] == ["classifier"] and s["full_clf_only"]["backbone"] == "frozen"
    assert s["full_iou_only"]["components"] == ["iou"]
    assert s["mimic_response"]["losses"]["iou"] == 0 and s["mimic_response"]["losses"]["feature"] > 0


@pytest.mark.parametrize("bad, match", [
    ({"pairs": "yolo9000"}, r"^config distill.strategies.x.pairs: unknown pair method 'yolo9000'"),
    ({"pairs": "central", "components": ["classifier", "tail"]},
     r"^config distill.strategies.x.components\[1\]: 'tail' is not one of \['classifier', 'iou'\]$"),
    ({"pairs": "central", "components": []}, r"^config distill.strategies.x.components: \[\] should be non-empty$"),
    ({"pairs": "central", "mode": "magic"}, r"^config distill.strategies.x.mode: 'magic' is not one of"),
    ({"pairs": "central", "backbone": "half"}, r"^config distill.strategies.x.backbone: 'half' is not one of"),
    ({"pairs": "central", "losses": {"featur": 1.0}}, r"^config distill.strategies.x.losses.featur: unknown key"),
    ({"pairs": "central", "losses": {"feature": 0.0}}, "^config distill.strategies.x.losses: every loss weight is 0"),
    ({"pairs": "central", "losses": {"feature": 1, "response_type": "js"}},
     r"^config distill.strategies.x.losses.response_type: 'js' is not one of \['kl', 'mse'\]$"),
    ({"pairs": "central", "losses": {"feature": 1, "feature_layers": ["layer9"]}},
     r"^config distill.strategies.x.losses.feature_layers\[0\]: 'layer9' is not one of"),
    ({"pairs": "central", "lossez": {}}, r"^config distill.strategies.x.lossez: unknown key \(allowed here: backbone,"),
    ({"mode": "official"}, r"^config distill.strategies.x: 'pairs' is a required property$"),
    ({"pairs": "central", "mode": "official", "losses": {"feature": 1.0}},
     r"^config distill.strategies.x.losses: unknown loss\(es\) \['feature'\] for mode 'official'"),
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


def test_default_strategies_come_from_the_schema_alone():
    """The demo strategies are the schema's default of distill.strategies (package data), not a
    copy; the workflow keeps none either and checks strategies with resolve_strategies."""
    from cmd_core.config_schema import load_schema, validate_strategy

    from conftest import PROJECT_ROOT

    raw = load_schema()["properties"]["distill"]["properties"]["strategies"]["default"]
    assert {n: validate_strategy(n, s) for n, s in raw.items()} == DEFAULT_STRATEGIES
    lib = (PROJECT_ROOT / "cmd_core" / "distill" / "strategies.py").read_text()
    assert "detector" not in lib.split("DEFAULT_STRATEGIES: dict[str, dict[str, Any]] =", 1)[1].split("\n", 1)[0]
    rules = "".join(p.read_text() for p in (PROJECT_ROOT / "workflow").rglob("*.smk"))
    assert "full_random" not in rules and "resolve_strategies(" in rules


def test_batchnorm_setting():
    assert all(s["batchnorm"] == "frozen" for s in resolve_strategies().values())  # the safe default
    assert resolve_strategy({"pairs": "central", "batchnorm": "train", "losses": {"feature": 1.0}})["batchnorm"] == "train"
    with pytest.raises(StrategyError, match=r"^config distill.strategies.b.batchnorm: 'sometimes' is not one of"):
        resolve_strategy({"pairs": "central", "mode": "official", "batchnorm": "sometimes"}, name="b")


def test_validated_default_config_strategies_resolve():
    """The workflow validates config (filling schema defaults) before jobs resolve the strategies:
    the filled-in config must still give valid strategies (no loss of the other mode added)."""
    import yaml

    from cmd_core.config_schema import validate_config

    from conftest import PROJECT_ROOT

    cfg = yaml.safe_load((PROJECT_ROOT / "config/config.yaml").read_text())
    cfg["distill"] = {"strategies": {"mine": {"pairs": "random", "mode": "distill", "losses": {"response": 1.0}}}}
    validate_config(cfg)
    resolved = resolve_strategies(cfg["distill"]["strategies"])
    assert resolved["mine"]["losses"]["response"] == 1.0 and "clf" not in resolved["mine"]["losses"]
    assert resolved["mine"]["lr_scale"] == 0.3 and resolved["mine"]["backbone"] == "frozen"
    default_cfg = validate_config(yaml.safe_load((PROJECT_ROOT / "config/config.yaml").read_text()))
    assert set(resolve_strategies(default_cfg["distill"]["strategies"])) == set(DEFAULT_STRATEGIES)
    assert default_cfg["distill"]["epochs"] == 3  # the schema's default is the shipped config's value
