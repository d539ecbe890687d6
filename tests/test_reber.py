"""The Reber grammar: acceptor, generator, the paper's files, and the RNN pruning targets."""

import numpy as np
import pytest
import torch

from rewire.data import load_dataset
from rewire.data.reber import (encode, generate_reber, invalid_string, is_reber,
                               length_baseline, read_reber_csv)
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
