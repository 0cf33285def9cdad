

def test_per_attribute_of_a_set_without_attributes_is_empty(tmp_path):
    """An evaluation set without attribute annotations contributes no rows (and no error)."""
    import pandas as pd

    from cmd_core.experiment.assemble import ATTRIBUTE_COLUMNS, read_per_attribute

    path = tmp_path / "per_attribute.csv"
    pd.DataFrame(columns=ATTRIBUTE_COLUMNS).to_csv(path, index=False)
    out = read_per_attribute(path, "rgbt_eval", tracker="teacher", source_tracker="teacher")
    assert out.empty and "eval_set" in out.columns
