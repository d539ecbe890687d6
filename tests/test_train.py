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


def test_a_loader_trains_like_the_split_it_serves():
    """The DataLoader path: the same batches in the same order give the same weights, and a
    loader with its own generator is re-seeded per epoch (same seed, same bytes)."""
    from torch.utils.data import DataLoader, TensorDataset

    data, model = _setup()
    fit(model, data.train, data.val, epochs=1, schedule="constant", progress=False)
    gen = torch.Generator().manual_seed(derive_perm_seed())
    perm = torch.randperm(len(data.train), generator=gen)
    ds = TensorDataset(data.train.x[perm], data.train.y[perm])
    _, other = _setup()
    hist = fit(other, DataLoader(ds, batch_size=64), DataLoader(TensorDataset(
        data.val.x, data.val.y), batch_size=100), epochs=1, schedule="constant",
        progress=False)
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert hist[0]["val_accuracy"] == evaluate(other, data.val)["accuracy"]

    def shuffled():
        return DataLoader(ds, batch_size=64, shuffle=True, generator=torch.Generator())
    runs = []
    for _ in range(2):
        _, m = _setup()
        fit(m, shuffled(), epochs=2, progress=False)
        runs.append(m.state_dict())
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])


def derive_perm_seed() -> int:
    from rewire.seeds import derive
    return derive(0, "epoch", 0)


def test_onecycle_rises_then_falls_and_label_smoothing_softens():
    from rewire.train.loop import _lr_factor

    total = 100
    f = [_lr_factor("onecycle", s, total) for s in range(total)]
    assert f[0] == pytest.approx(1 / 25) and max(f) == pytest.approx(1.0)
    assert f.index(max(f)) == 30 and f[-1] < 1e-3
    assert all(a <= b for a, b in zip(f[:30], f[1:31]))
    assert all(a >= b for a, b in zip(f[30:], f[31:]))
    data, model = _setup()
    hist = fit(model, data.train, data.val, epochs=4, lr=3e-3, schedule="onecycle",
               label_smoothing=0.1, progress=False)
    assert hist[-1]["val_accuracy"] > 0.9
    with torch.no_grad():
        logits = model(data.val.x[:200])
    # smoothed targets keep the winning probability below 1 - 0.1 * 9 / 10 on average
    assert logits.softmax(1).max(1).values.mean() < 0.95
    with pytest.raises(ValueError, match="label_smoothing"):
        fit(model, data.train, epochs=1, label_smoothing=1.0, progress=False)
    with pytest.raises(ValueError, match="schedule"):
        fit(model, data.train, epochs=1, schedule="step", progress=False)


def test_augmentation_is_seeded_and_moves_pixels():
    from rewire.train import flip_translate

    x = torch.rand(16, 3, 8, 8)
    aug = flip_translate(pad=2)
    a = aug(x, torch.Generator().manual_seed(1))
    assert torch.equal(a, aug(x, torch.Generator().manual_seed(1)))
    assert not torch.equal(a, aug(x, torch.Generator().manual_seed(2)))
    assert not torch.equal(a, x)
    # no flip, no shift: the identity
    assert torch.equal(flip_translate(pad=0, flip=False)(x, torch.Generator()), x)
    # a flip alone permutes the columns of each image
    f = flip_translate(pad=0)(x, torch.Generator().manual_seed(0))
    for i in range(16):
        assert torch.equal(f[i], x[i]) or torch.equal(f[i], x[i].flip(2))
    data, model = _setup()
    h1 = fit(model, data.train, epochs=1, augment=aug, progress=False, seed=4)
    _, model2 = _setup()
    h2 = fit(model2, data.train, epochs=1, augment=aug, progress=False, seed=4)
    assert h1[0]["train_loss"] == h2[0]["train_loss"]


def test_cutout_zeroes_one_clipped_square_per_image():
    from rewire.train import cutout

    x = torch.rand(64, 3, 12, 12) + 1.0  # no zero before the cut
    aug = cutout(6)
    a = aug(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, aug(x, torch.Generator().manual_seed(3)))
    assert not torch.equal(a, aug(x, torch.Generator().manual_seed(4)))
    zero = a == 0
    assert torch.equal(zero[:, :1].expand_as(zero), zero)  # every channel alike
    sizes = []
    for z in zero[:, 0]:
        rows, cols = z.any(1).nonzero().flatten(), z.any(0).nonzero().flatten()
        # one axis-aligned rectangle, at most 6 x 6 (smaller where the border clips it)
        assert int(z.sum()) == len(rows) * len(cols) and len(rows) <= 6 and len(cols) <= 6
        sizes.append(int(z.sum()))
    assert max(sizes) == 36 and min(sizes) < 36  # whole squares inside, clipped at edges
    assert torch.equal(a[~zero], x[~zero])  # nothing else changes
    assert torch.equal(cutout(0)(x, torch.Generator()), x)
    with pytest.raises(ValueError, match="cutout"):
        cutout(-1)


def test_device_is_checked_and_cpu_trains():
    data, model = _setup()
    with pytest.raises(ValueError, match="unknown device"):
        fit(model, data.train, epochs=1, device="gpu", progress=False)
    hist = fit(model, data.train, data.val, epochs=1, device="cpu", progress=False)
    assert evaluate(model, data.val, device="cpu")["accuracy"] == hist[0]["val_accuracy"]


def test_mirror_evaluation_averages_the_image_and_its_mirror():
    """A model that sees only the left half of an image: mirror-averaged evaluation equals
    averaging by hand the softmax of the image and of its flip; a split and a loader of the
    same images agree; a mirror-symmetric image set changes nothing."""
    torch.manual_seed(0)
    x, y = torch.randn(40, 1, 4, 6), torch.randint(0, 3, (40,))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))
    model[1].weight.data.view(3, 4, 6)[:, :, 3:] = 0  # blind to the right half
    from rewire.data import Split

    p = (model(x).softmax(1) + model(x.flip(-1)).softmax(1)) / 2
    got = evaluate(model, Split(x, y), mirror=True)
    assert got["accuracy"] == pytest.approx((p.argmax(1) == y).float().mean().item())
    assert got["loss"] == pytest.approx(torch.nn.functional.nll_loss(p.log(), y).item(),
                                        rel=1e-5)
    loader = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 40, 16)]
    assert evaluate(model, loader, mirror=True) == pytest.approx(got)
    sym = torch.cat([x[..., :3], x[..., :3].flip(-1)], -1)
    assert evaluate(model, Split(sym, y), mirror=True) == pytest.approx(
        evaluate(model, Split(sym, y)))
