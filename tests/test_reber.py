"""The Reber grammar: acceptor, generator, the paper's files, and the RNN pruning targets."""

import numpy as np
import pytest
import torch

from rewire.data import load_dataset
from rewire.data.reber import (
    encode,
    generate_reber,
    invalid_string,
    is_reber,
    length_baseline,
    letter_baseline,
    letter_length_baseline,
    read_reber_csv,
)
from rewire.experiments.prune_rnn import target_layers
from rewire.models import create_model
from rewire.prune import magnitude
from rewire.sparse import get_mask


def test_acceptor_on_the_papers_examples():
    assert is_reber("BPTVPXTTVVE")
    assert not is_reber("BTTVPXTVPSE")  # the paper's false example
    assert is_reber("BTSXXTTTTVVE") and is_reber("BPVPXTTVPXTTTTTTTTTTVPSE")
    assert not is_reber("BNAFUCCAFUCCAFUADE") and not is_reber("BTXSE ")


def test_generator_is_balanced_seeded_and_labelled_by_the_acceptor():
    s, y = generate_reber(2000, seed=1)
    s2, _ = generate_reber(2000, seed=1)
    assert s == s2 and y.mean() == 0.5
    assert all(is_reber(a) == bool(b) for a, b in zip(s, y))
    valid = [a for a, b in zip(s, y) if b]
    assert len(set(valid)) == len(valid)
    lengths = np.array([len(a) for a in s])
    assert lengths.min() >= 11 and lengths.max() <= 53
    foreign = [a for a, b in zip(s, y) if not b and set(a[1:-1]) - set("TPSXV")]
    assert 0.45 < len(foreign) / 1000 < 0.67  # the paper's 56%


def test_generated_lengths_say_nothing_about_the_label():
    s, y = generate_reber(4000, seed=3)
    x = encode(s)
    assert sorted(map(len, (a for a, b in zip(s, y) if b))) == sorted(
        map(len, (a for a, b in zip(s, y) if not b)))
    assert 0.4 < length_baseline(x[:3000], y[:3000], x[3000:], y[3000:]) < 0.6


def test_length_baseline_predicts_each_lengths_majority():
    x = encode(["BTE", "BTE", "BPE", "BTTE", "BTTTE"])
    y = np.array([1, 1, 0, 0, 1])
    # length 3 -> 1, length 4 -> 0, unseen length 6 -> the overall majority 1
    assert length_baseline(x, y, encode(["BXE", "BXXE", "BXXXXE"]), np.array([1, 1, 1])) == 2 / 3


def test_grammar_free_baselines_flag_foreign_letters_then_go_by_length():
    x = encode(["BTE", "BPVE", "BQE"])
    y = np.array([1, 1, 0])
    test = encode(["BTPE", "BQQE", "BTTE", "BAE"])  # legal letters: B E T P V
    assert letter_baseline(x, y, test, np.array([1, 0, 0, 1])) == 0.5
    # foreign letters first, then each known string's length: BQE 0, BAE 0 (wrong),
    # BTTE: length 4 -> 1 (BPVE), BTE: length 3 -> 1
    test, labels = encode(["BQQE", "BAE", "BTTE", "BTE"]), np.array([0, 1, 1, 1])
    assert letter_length_baseline(x, y, test, labels) == 0.75
    s, y = generate_reber(4000, seed=2)  # 56% of the invalid strings are foreign
    x = encode(s)
    assert letter_baseline(x[:3000], y[:3000], x[3000:], y[3000:]) == pytest.approx(0.78, abs=0.03)


def test_invalid_strings_in_the_reber_alphabet_break_one_rule():
    import random

    rng = random.Random(0)
    for _ in range(200):
        s = invalid_string(rng, foreign_fraction=0.0)
        assert set(s) <= set("BETPSXV") and not is_reber(s)
    t = "BTSSXXTVVE"
    assert all(len(invalid_string(rng, 0.5, t)) == len(t) for _ in range(50))


def test_encode_pads_with_zero():
    x = encode(["BTE", "BPVVE"])
    assert x.tolist() == [[66, 84, 69, 0, 0], [66, 80, 86, 86, 69]]


def test_papers_files_load_and_agree_with_the_acceptor(shared_data):
    s, y = read_reber_csv(shared_data / "reber-deepstruct" / "reber_sequences.csv")
    assert len(s) == 25_000 and y.sum() == 12_500
    assert all(is_reber(a) == bool(b) for a, b in zip(s, y))
    d = load_dataset("reber-deepstruct", shared_data)
    assert len(d.test) == 6250 and len(d.train) + len(d.val) == 18_750
    # the paper's invalid strings differ in length from its valid ones
    base = length_baseline(d.train.x.numpy(), d.train.y.numpy(), d.test.x.numpy(),
                           d.test.y.numpy())
    assert base == pytest.approx(0.777, abs=0.002)
    letters = letter_baseline(d.train.x.numpy(), d.train.y.numpy(), d.test.x.numpy(),
                              d.test.y.numpy())
    assert letters == pytest.approx(0.779, abs=0.002)
    both = letter_length_baseline(d.train.x.numpy(), d.train.y.numpy(), d.test.x.numpy(),
                                  d.test.y.numpy())
    assert both == pytest.approx(0.857, abs=0.002)


def test_rnn_targets_select_input_or_hidden_weights():
    net = create_model("reber-rnn", (20,), 2, cell="gru")
    assert target_layers(net, "i2h") == [f"rnn.weight_ih_l{i}" for i in range(3)]
    assert target_layers(net, "h2h") == [f"rnn.weight_hh_l{i}" for i in range(3)]
    assert len(target_layers(net, "both")) == 6
    magnitude(net, 1.0, layers=target_layers(net, "h2h"))
    assert not get_mask(net, "rnn.weight_hh_l1").any()
    assert net.rnn.weight_ih_l1.abs().min() > 0  # i2h untouched (not even masked)
    with pytest.raises(ValueError, match="unknown target"):
        target_layers(net, "h2o")


def test_reber_rnn_learns_generated_reber(tmp_path):
    from rewire.data import Split
    from rewire.train import evaluate, fit

    s, y = generate_reber(3000, seed=2)
    x = torch.from_numpy(encode(s))
    y = torch.from_numpy(y)
    train, test = Split(x[:2400], y[:2400]), Split(x[2400:], y[2400:])
    torch.manual_seed(0)
    net = create_model("reber-rnn", tuple(x.shape[1:]), 2, cell="gru", hidden=32, layers=1)
    fit(net, train, epochs=5, lr=3e-3, batch_size=32, progress=False)
    # the alphabet alone separates 28% of the strings (chance + 0.28 = 0.78); the grammar more
    assert evaluate(net, test)["accuracy"] > 0.85


def test_iterative_rnn_pruning_prunes_the_retrained_net(tmp_path, monkeypatch):
    """Fresh: every level prunes the base. Iterative: a level prunes the net re-trained at the
    level before. A stand-in 're-training' inverts the magnitude order of the live weights,
    so the two modes must keep different weights at the second level."""
    from rewire.data import Split, Splits
    from rewire.experiments import prune_rnn

    s, y = generate_reber(200, seed=4)
    x, y = torch.from_numpy(encode(s)), torch.from_numpy(y)
    data = Splits("tiny", Split(x[:100], y[:100]), Split(x[100:150], y[100:150]),
                  Split(x[150:], y[150:]), 2)
    masks = []

    def invert(net, *args, **kwargs):
        w = net.rnn.parametrizations.weight_ih_l0.original
        with torch.no_grad():
            w.copy_(w.sign() / (w.abs() + 1e-3))
        masks.append(get_mask(net, "rnn.weight_ih_l0").clone())

    monkeypatch.setattr(prune_rnn, "load_dataset", lambda *a, **k: data)
    monkeypatch.setattr(prune_rnn, "fit", invert)
    torch.manual_seed(0)
    base = tmp_path / "base" / "tiny_gru_seed0" / "model.pt"  # the engine's layout
    base.parent.mkdir(parents=True)
    torch.save(create_model("reber-rnn", data.input_shape, 2, cell="gru").state_dict(), base)
    rows = {}
    for iterative in (False, True):
        cfg = prune_rnn.PruneRNNConfig(cells=["gru"], amounts=[0.8, 0.5], iterative=iterative)
        rows[iterative] = prune_rnn._task(str(tmp_path / "runs" / str(iterative)),
                                          prune_rnn.asdict(cfg), "tiny", "gru", 0, "i2h")
    assert [r["amount"] for r in rows[False]] == [0.8, 0.5]
    assert [r["amount"] for r in rows[True]] == [0.5, 0.8]  # in order
    fresh80, fresh50, it50, it80 = masks
    assert torch.equal(fresh50, it50) and (fresh80 <= fresh50).all()  # both from the base
    assert (it80 <= it50).all() and not torch.equal(it80, fresh80)  # pruned stay pruned
    assert abs(1 - it80.float().mean() - 0.8) < 0.01
