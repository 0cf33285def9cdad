"""deep_merge: nested dicts merged key by key, everything else replaced, inputs never changed."""

import copy

from cmd_core.mapping import deep_merge


def test_deep_merge_nested_and_replaced_values():
    base = {"a": 1, "b": {"x": 1, "y": {"p": 1, "q": 2}}, "c": [1, 2], "d": {"k": 1}}
    over = {"b": {"y": {"q": 3}, "z": 4}, "c": [3], "d": 5, "e": {"new": 1}}
    before_base, before_over = copy.deepcopy(base), copy.deepcopy(over)
    out = deep_merge(base, over)
    assert out == {"a": 1, "b": {"x": 1, "y": {"p": 1, "q": 3}, "z": 4}, "c": [3], "d": 5, "e": {"new": 1}}
    assert base == before_base and over == before_over
    out["b"]["y"]["p"] = 9
    out["c"].append(4)
    out["e"]["new"] = 2
    assert base == before_base and over == before_over  # the result shares nothing with the inputs


def test_deep_merge_replace_keys_and_empty_overrides():
    base = {"w": {"a": 1, "b": 2}, "n": {"w": {"a": 1, "b": 2}}}
    assert deep_merge(base, {"w": {"a": 5}}) == {"w": {"a": 5, "b": 2}, "n": {"w": {"a": 1, "b": 2}}}
    assert deep_merge(base, {"w": {"a": 5}, "n": {"w": {"b": 7}}}, replace=("w",)) == {
        "w": {"a": 5}, "n": {"w": {"b": 7}}}  # replaced whole at any depth
    assert deep_merge(base, None) == base and deep_merge(base, {}) == base
    assert deep_merge(base, None) is not base
