"""The headline claims on real MNIST (about 5 minutes each on 2 cores): ``pytest -m slow``."""

import pytest

from rewire.configs import SirenConfig
from rewire.experiments.siren_run import run_siren
from rewire.models import load_model
from rewire.sparse import is_ternary


@pytest.mark.slow
@pytest.mark.parametrize("sparsity,floor", [(0.9, 0.97), (0.95, 0.96)])
def test_pure_ternary_mnist_cnn(shared_data, tmp_path, sparsity, floor):
    r = run_siren(SirenConfig(dataset="mnist", sparsity=sparsity, data_dir=str(shared_data)),
                  tmp_path, progress=False)
    assert r["test_accuracy"] >= floor
    for layer in r["layers"]:
        assert layer["zero"] == round(sparsity * layer["weights"])
    model = load_model(tmp_path / "model.rwt")
    assert is_ternary(model)
    assert model.conv1.bias is None and model.fc.bias is None
    if sparsity == 0.9:
        assert r["float32_bytes"] / r["packed_bytes"] >= 40
