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
