"""Tracker presets equal the official pytracking parameter files; the CPU preset is valid."""

import pytest

from cmd_core.tracking import DiMPParams, get_preset, preset_names


def test_official_values():
    d50, d18, sup = get_preset("dimp50"), get_preset("dimp18"), get_preset("super_dimp")
    for p in (d50, d18, sup):
        assert (p.sample_memory_size, p.learning_rate, p.init_samples_minimum_weight, p.train_skipping) == (50, 0.01, 0.25, 20)
        assert (p.net_opt_iter, p.net_opt_update_iter, p.net_opt_hn_iter) == (10, 2, 1)
        assert p.aug_rotate == (10, -10, 45, -45) and p.aug_blur == ((3, 1), (1, 3), (2, 2))
        assert p.aug_relativeshift == ((0.6, 0.6), (-0.6, 0.6), (0.6, -0.6), (-0.6, -0.6)) and p.aug_dropout == (2, 0.2)
        assert (p.augmentation_expansion_factor, p.random_shift_factor) == (2, 1 / 3)
        assert (p.target_not_found_threshold, p.distractor_threshold, p.hard_negative_threshold) == (0.25, 0.8, 0.5)
        assert (p.target_neighborhood_scale, p.dispalcement_scale, p.hard_negative_learning_rate) == (2.2, 0.8, 0.02)
        assert (p.iounet_k, p.num_init_random_boxes, p.box_jitter_pos, p.box_jitter_sz, p.maximal_aspect_ratio) == (3, 9, 0.1, 0.5, 6)
        assert p.num_init_samples == 15
    for p in (d50, d18):
        assert (p.image_sample_size, p.search_area_scale, p.box_refinement_iter, p.box_refinement_step_length) == (288, 5, 5, 1)
        assert p.box_refinement_space == "default" and p.border_mode == "replicate"
    assert (d18.network, d50.network) == ("resnet18", "resnet50")
    assert (sup.image_sample_size, sup.search_area_scale, sup.border_mode, sup.patch_max_scale_change) == (352, 6, "inside_major", 1.5)
    assert (sup.box_refinement_space, sup.box_refinement_iter, sup.box_refinement_step_length) == ("relative", 10, 2.5e-3)


def test_cpu_preset_and_overrides():
    cpu = get_preset("cpu")
    assert cpu.image_sample_size < 288 and cpu.num_init_samples < 15 and cpu.network is None
    assert set(preset_names()) >= {"dimp18", "dimp50", "super_dimp", "cpu"}
    assert get_preset("dimp50", net_opt_iter=3).net_opt_iter == 3
    with pytest.raises(ValueError, match="unknown tracker preset"):
        get_preset("nope")
    with pytest.raises(ValueError, match="unknown tracker parameter"):
        get_preset("cpu", bogus=1)
    with pytest.raises(ValueError, match="multiple of 16"):
        DiMPParams(image_sample_size=100)


@pytest.mark.parametrize("name,value,message", [
    ("search_area_scale", -3, "search_area_scale must be a number > 0, got -3"),
    ("net_opt_iter", "abc", "net_opt_iter must be an integer >= 0, got 'abc'"),
    ("net_opt_iter", 2.5, "net_opt_iter must be an integer >= 0, got 2.5"),
    ("learning_rate", 1.5, r"learning_rate must be a number in \(0, 1\], got 1.5"),
    ("use_iou_net", 1, "use_iou_net must be True or False, got 1"),
    ("iou_net_min_init_corr", 2.0, r"iou_net_min_init_corr must be a number in \[-1, 1\] \(or None\), got 2.0"),
    ("train_skipping", 0, "train_skipping must be an integer >= 1, got 0"),
    ("scale_factors", (0.9, -1.0), "scale_factors must be None or a non-empty tuple of numbers > 0"),
    ("scale_lr", 2.0, r"scale_lr must be a number in \[0, 1\], got 2.0"),
    ("aug_dropout", (2, 1.0), r"aug_dropout must be None or \(copies: integer >= 0, rate in \[0, 1\)\)"),
    ("aug_blur", ((0, 1),), r"aug_blur must be a tuple of \(sigma_y, sigma_x\) pairs > 0"),
    ("border_mode", "inside", "unknown border_mode 'inside'"),
])
def test_values_are_checked_against_type_and_range(name, value, message):
    with pytest.raises(ValueError, match=message):
        get_preset("dimp50", **{name: value})
    with pytest.raises(ValueError, match=message.replace("dimp50", "cpu")):
        DiMPParams(name="x", **{name: value})


def test_every_preset_passes_its_own_checks():
    for name in preset_names():
        p = get_preset(name)
        assert p.replace() == p
    assert get_preset("cpu", search_area_scale=4, iou_net_min_init_corr=None).search_area_scale == 4  # int for float


def test_cli_set_value_errors_exit_2(tmp_path, capsys):
    from test_tracking_runner import square_frames, write_manifest

    from cmd_core.cli import main

    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes)})
    for setting, message in (("search_area_scale=-3", "search_area_scale must be a number > 0, got -3"),
                             ("net_opt_iter=abc", "net_opt_iter must be an integer >= 0, got 'abc'")):
        code = main(["track", "--manifest", str(manifest), "--modality", "tir", "--preset", "cpu",
                     "--allow-untrained", "--set", setting, "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert code == 2 and "cmd-tir track: error:" in err and message in err, err
    assert not (tmp_path / "o" / "a.txt").exists()
