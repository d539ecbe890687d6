"""Every committed results README is what ``rewire report`` renders from the folder's files."""

from pathlib import Path

import pytest

from rewire.experiments.reports import render

RESULTS = Path(__file__).resolve().parents[1] / "results"
FOLDERS = sorted(p.parent for p in RESULTS.glob("*/report.json"))
# these re-compute from the data (grammar-free baselines) and re-fit regressors: minutes
SLOW = {"priors-reber"}


@pytest.mark.parametrize("folder", [pytest.param(f, marks=pytest.mark.slow)
                                    if f.name in SLOW else f for f in FOLDERS],
                         ids=[f.name for f in FOLDERS])
def test_committed_readme_is_the_rendered_one(folder, shared_data, monkeypatch):
    monkeypatch.setenv("REWIRE_DATA", str(shared_data))
    assert render(folder) == (folder / "README.md").read_text()


def test_a_folder_without_report_json_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no report.json"):
        render(tmp_path)
