import json

import pytest
import torch

from rewire.data import load_dataset
from rewire.models import create_model
from rewire.train import evaluate, fit


class Interrupt(Exception):
    pass


def _setup():
    torch.manual_seed(3)
    data = load_dataset("digits")
    return data, create_model("aann-mnist-cnn", data.input_shape)


def test_training_learns_digits():
    data, model = _setup()
    hist = fit(model, data.train, data.val, epochs=8, lr=3e-3, progress=False)
    assert hist[-1]["val_accuracy"] > 0.93
    assert hist[-1]["train_loss"] < hist[0]["train_loss"] / 3
    assert evaluate(model, data.test)["accuracy"] > 0.93


def test_resume_after_interruption_is_bit_exact(tmp_path):
    data, model = _setup()
    fit(model, data.train, data.val, epochs=3, progress=False)
    reference = model.state_dict()

    data, model = _setup()
    ckpt = tmp_path / "ckpt.pt"
    steps_per_epoch = -(-len(data.train) // 64)

    def crash(step, total):
        if step == steps_per_epoch + 5:  # in the middle of the second epoch
            raise Interrupt

    with pytest.raises(Interrupt):
        fit(model, data.train, data.val, epochs=3, step_hook=crash, checkpoint=ckpt,
            progress=False, log=tmp_path / "log.jsonl")
    data, fresh = _setup()
    hist = fit(fresh, data.train, data.val, epochs=3, checkpoint=ckpt, progress=False,
               log=tmp_path / "log.jsonl")
    assert [r["epoch"] for r in hist] == [1, 2, 3]
    for k, v in reference.items():
        assert torch.equal(v, fresh.state_dict()[k]), k
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3]


def test_keep_best_restores_the_best_validation_epoch():
    data, model = _setup()
    hist = fit(model, data.train, data.val, epochs=3, lr=0.05, keep_best=True, progress=False)
    best = max(r["val_accuracy"] for r in hist)
    assert evaluate(model, data.val)["accuracy"] == pytest.approx(best)


def test_early_stopping_stops():
    data, model = _setup()
    hist = fit(model, data.train, data.val, epochs=30, lr=1e-7, patience=2, progress=False)
    assert len(hist) < 30


def test_bad_arguments():
    data, model = _setup()
    with pytest.raises(ValueError, match="validation"):
        fit(model, data.train, epochs=1, keep_best=True, progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        fit(model, data.train, epochs=1, optimizer="lbfgs", progress=False)


def test_clip_grad_norm_bounds_every_step(digits):
    from rewire.models import create_model

    torch.manual_seed(0)
    model = create_model("aann-mnist-cnn", digits.input_shape)
    norms = []
    real_step = torch.optim.Adam.step

    def spy(self, *a, **k):
        norms.append(torch.norm(torch.stack([p.grad.norm() for g in self.param_groups
                                             for p in g["params"] if p.grad is not None])))
        return real_step(self, *a, **k)

    torch.optim.Adam.step = spy
    try:
        fit(model, digits.train, epochs=1, lr=0.1, clip_grad_norm=0.05, progress=False)
    finally:
        torch.optim.Adam.step = real_step
    assert len(norms) > 5 and max(norms) <= 0.05 + 1e-5
