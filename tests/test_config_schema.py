"""One source of config truth: the schema is package data of cmd_core; the library and the
workflow fill and check defaults from it with the same messages; every mapping refuses unknown
keys, naming the key's path; and the workflow's dataset checks run when the DAG is built."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import pytest
import yaml

from cmd_core.config_schema import (
    ConfigError,
    dataset_registry,
    load_schema,
    purpose_dataset,
    section_defaults,
    validate_config,
)
from cmd_core.distill.strategies import DEFAULT_STRATEGIES, StrategyError, resolve_strategy
from cmd_core.pairs.config import DEFAULTS, job_config, load_config
from conftest import PROJECT_ROOT


def _dry_run(tmp_path, config: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"results": str(tmp_path / "results"), **config}))
    cmd = [sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "1", f"--configfile={path}", "--", "all"]
    return subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)


def test_schema_ships_with_the_package_and_the_workflow_reads_that_file():
    shipped = resources.files("cmd_core.config_schema") / "config.schema.yaml"
    assert shipped.is_file()
    assert (PROJECT_ROOT / "workflow" / "schemas" / "config.schema.yaml").resolve() == \
        (PROJECT_ROOT / "cmd_core" / "config_schema" / "config.schema.yaml").resolve()
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert '"cmd_core.config_schema" = ["config.schema.yaml"]' in pyproject
    common = (PROJECT_ROOT / "workflow" / "rules" / "common.smk").read_text()
    assert "validate_config(config)" in common and "snakemake.utils import validate" not in common


def _objects(node, path="config"):
    """(path, schema) of every mapping the schema describes."""
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for key, sub in node.items():
            if key == "properties":
                for name, prop in sub.items():
                    yield from _objects(prop, f"{path}.{name}")
            elif key in ("additionalProperties", "items"):
                yield from _objects(sub, f"{path}.<{key}>")
            elif key == "$defs":
                for name, prop in sub.items():
                    yield from _objects(prop, f"{path}.{name}")


def test_every_mapping_refuses_unknown_keys():
    """Each mapping has a closed key set (additionalProperties false, or names checked per type),
    or is a name -> value map whose values are typed."""
    open_maps = []
    for path, node in _objects(load_schema()):
        closed = node.get("additionalProperties") is False or "allOf" in node or "propertyNames" in node
        typed_map = isinstance(node.get("additionalProperties"), dict)
        if not (closed or typed_map):
            open_maps.append(path)
    assert open_maps == []


@pytest.mark.parametrize("config, message", [
    ({"pairs": {"methods": {"random": {"type": "random", "boxes_per_frme": 7}}}},
     "config pairs.methods.random.boxes_per_frme: unknown key (allowed here: type, seed, roles, on_error, frame_step, "
     "boxes_per_frame, size, aspect, min_separation)"),
    ({"pairs": {"detector": {"builtin": [{"name": "thermal", "polarty": "cold"}]}}},
     "config pairs.detector.builtin[0].polarty: unknown key (allowed here: name, modality, polarity, block, offset, "
     "min_area)"),
    ({"pairs": {"detector": {"files": [{"path": "d.txt", "format": "mot", "labl": "car"}]}}},
     "config pairs.detector.files[0].labl: unknown key (allowed here: format, label, modality, name, names, path)"),
    ({"training": {"teacher": {"epoch": 2}}},
     "config training.teacher.epoch: unknown key (allowed here: backbone_weights, batch_size, checkpoint, dataset, "
     "device, epochs, extra_seeds, modality, preset, samples_per_epoch, seed, threads)"),
    ({"ingest": {"on_error": "sometimes"}}, "config ingest.on_error: 'sometimes' is not one of ['fail', 'skip']"),
])
def test_unknown_or_bad_keys_are_refused_with_their_path(config, message):
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert str(err.value) == message


def test_library_refuses_the_misspelled_method_key_too():
    """The issue's case: the pair generator no longer ignores boxes_per_frme (3 boxes instead of 7)."""
    with pytest.raises(ConfigError, match=r"^config pairs.methods.random.boxes_per_frme: unknown key"):
        load_config({"methods": {"random": {"type": "random", "boxes_per_frme": 7}}})
    with pytest.raises(ConfigError, match=r"^config pairs.methods.r2.boxes_per_frame: -1 is less than the minimum of 1$"):
        load_config({"methods": {"r2": {"type": "random", "boxes_per_frame": -1}}})


def test_library_and_workflow_defaults_are_the_schema_defaults():
    cfg = validate_config({})
    assert cfg["pairs"] == DEFAULTS == load_config({}) == section_defaults("pairs")
    assert cfg["distill"]["strategies"] == DEFAULT_STRATEGIES
    assert cfg["distill"]["epochs"] == 3 == yaml.safe_load((PROJECT_ROOT / "config" / "config.yaml").read_text())[
        "distill"]["epochs"]
    bound = yaml.safe_load((PROJECT_ROOT / "config" / "config.yaml").read_text())["supervised_tir"]
    assert (cfg["supervised_tir"]["epochs"], cfg["supervised_tir"]["samples_per_epoch"]) == (16, 256) == (
        bound["epochs"], bound["samples_per_epoch"])
    for name in ("pairs", "distill", "training"):  # no library module keeps a copy of the defaults
        assert "boxes_per_frame\": 3" not in (PROJECT_ROOT / "cmd_core" / "pairs" / "config.py").read_text()
    assert "DEFAULTS: dict[str, Any] = section_defaults(\"pairs\")" in (PROJECT_ROOT / "cmd_core/pairs/config.py").read_text()


def test_pair_job_config_holds_only_its_method():
    cfg = load_config({"methods": {"c": {"type": "central"}, "d": {"type": "detector"}}})
    assert set(job_config(cfg, "c")) == {"methods", "seed", "roles", "on_error", "frame_step", "central"}
    assert set(job_config(cfg, "d")) == {"methods", "seed", "roles", "on_error", "frame_step", "detector", "random"}
    assert load_config(job_config(cfg, "d"))["detector"] == cfg["detector"]


def test_a_strategy_is_checked_once_with_the_same_message_in_library_and_workflow(tmp_path):
    bad = {"pairs": "central", "mode": "official", "losses": {"feature": 1.0}}
    with pytest.raises(StrategyError) as err:
        resolve_strategy(bad, name="mine", pair_methods=["central"])
    message = str(err.value)
    assert message == ("config distill.strategies.mine.losses: unknown loss(es) ['feature'] for mode 'official' "
                       "(known: ['clf', 'iou'])")
    proc = _dry_run(tmp_path, {"pairs": {"methods": {"central": {"type": "central"}}},
                               "distill": {"strategies": {"mine": bad}}})
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr
    with pytest.raises(StrategyError, match=r"^config distill.strategies.m.pairs: unknown pair method 'detector'"):
        resolve_strategy({"pairs": "detector"}, name="m", pair_methods=["central"])


# ----------------------------------------------------------------------------- datasets
def _cfg(**datasets):
    return validate_config({"synthetic": {"enabled": False}, "datasets": datasets})


def test_dataset_root_must_exist(tmp_path):
    cfg = _cfg(lsotb={"format": "lsotb_eval", "root": str(tmp_path / "nope"), "purpose": "eval_tir"})
    with pytest.raises(ConfigError, match=rf"^config datasets.lsotb.root: {tmp_path / 'nope'} does not exist$"):
        dataset_registry(cfg, "synth")
    (tmp_path / "file").write_text("x")
    cfg = _cfg(lsotb={"format": "lsotb_eval", "root": str(tmp_path / "file"), "purpose": "eval_tir"})
    with pytest.raises(ConfigError, match="is not a folder"):
        dataset_registry(cfg, "synth")


def test_dry_run_refuses_a_missing_root_and_the_reserved_prefix(tmp_path):
    proc = _dry_run(tmp_path, {"datasets": {"ptb": {"format": "ptb_tir", "root": "/nonexistent/PTB-TIR",
                                                    "purpose": "eval_tir"}}})
    assert proc.returncode != 0
    assert "config datasets.ptb.root: /nonexistent/PTB-TIR does not exist" in proc.stdout + proc.stderr
    proc = _dry_run(tmp_path, {"synthetic": {"enabled": False},
                               "datasets": {"synth_x": {"format": "ptb_tir", "root": str(tmp_path)}}})
    assert proc.returncode != 0
    assert "config datasets.synth_x: the prefix 'synth_' is reserved for the synthetic benchmark" in proc.stdout + proc.stderr


def test_evaluation_only_config_needs_no_teacher_dataset(tmp_path):
    """experiment off, synthetic off, one TIR evaluation set: ingest, sheets and baselines only."""
    proc = _dry_run(tmp_path, {"synthetic": {"enabled": False}, "experiment": {"enabled": False},
                               "datasets": {"ptb": {"format": "ptb_tir", "root": str(tmp_path), "purpose": "eval_tir"}}})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "train_teacher" not in proc.stdout and "track" in proc.stdout


def test_purpose_dataset():
    ds = {"a": {"purpose": "distill"}, "b": {"purpose": "distill"}, "s": {"purpose": "distill", "synthetic": True},
          "t": {"purpose": "teacher_train"}}
    assert purpose_dataset(ds, "teacher_train", None, "k") == "t"
    assert purpose_dataset(ds, "distill", None, "k") == "s"  # the synthetic split first
    assert purpose_dataset(ds, "distill", "b", "k") == "b"
    assert purpose_dataset(ds, "eval_tir", None, "k") is None
    with pytest.raises(ConfigError, match=r"^config k: set it to the dataset to use \(datasets with purpose eval_tir: none\)$"):
        purpose_dataset(ds, "eval_tir", None, "k", required=True)
    with pytest.raises(ConfigError, match=r"^config k: set it to the dataset to use \(datasets with purpose distill: a, b\)$"):
        purpose_dataset({n: ds[n] for n in "ab"}, "distill", None, "k")
    with pytest.raises(ConfigError, match=r"^config k: unknown dataset 'zz' \(known: \['a', 'b', 's', 't'\]\)$"):
        purpose_dataset(ds, "distill", "zz", "k")
