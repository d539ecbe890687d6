"""The Reber grammar (deepstruct section 4.2): generator, acceptor, encodings, the paper's files.

The plain Reber automaton, framed ``B … E``::

    state  T  P  S  X  V
      0    1  2
      1          1  3
      2    2           4
      3          5  2
      4       3        5      E is allowed only from state 5

Invalid strings are drawn the two ways the deepstruct data has them: Reber letters with at
least one illegal transition, and walks through a relabelled copy of the automaton over
letters outside the Reber alphabet (56% of the paper's invalid strings), framed ``B … E``.
Unlike the paper's data, invalid strings copy the lengths of valid ones.
"""

from __future__ import annotations

import csv
import random

import numpy as np

__all__ = ["TRANSITIONS", "is_reber", "reber_string", "invalid_string", "generate_reber",
           "length_baseline", "letter_baseline",
           "letter_length_baseline", "encode", "read_reber_csv", "ALPHABET"]

TRANSITIONS: dict[int, dict[str, int]] = {
    0: {"T": 1, "P": 2},
    1: {"S": 1, "X": 3},
    2: {"T": 2, "V": 4},
    3: {"S": 5, "X": 2},
    4: {"P": 3, "V": 5},
}
FINAL = 5
ALPHABET = "TPSXV"
FOREIGN = "ACDFGHIJKLMNOQRUWYZ"  # capitals outside B, E and the Reber letters


def is_reber(s: str) -> bool:
    """True if ``s`` is a plain Reber string ``B <walk from 0 to 5> E``."""
    if len(s) < 2 or s[0] != "B" or s[-1] != "E":
        return False
    state = 0
    for c in s[1:-1]:
        if state == FINAL or c not in TRANSITIONS[state]:
            return False
        state = TRANSITIONS[state][c]
    return state == FINAL


_OPTIONS = {state: list(t.items()) for state, t in TRANSITIONS.items()}


def reber_string(rng: random.Random) -> str:
    """A random valid string: every state has two exits, taken with probability 1/2 each."""
    state, out = 0, ["B"]
    coin = rng.random
    while state != FINAL:
        c, state = _OPTIONS[state][coin() < 0.5]
        out.append(c)
    return "".join(out) + "E"


def invalid_string(rng: random.Random, foreign_fraction: float = 0.56,
                   template: str | None = None) -> str:
    """A random invalid string of the same length as ``template`` (a fresh valid string when
    None): with probability ``foreign_fraction`` the template relabelled with non-Reber
    letters, otherwise the template with one inner letter moved or replaced (a deletion and an
    insertion of a Reber letter) so that the grammar breaks."""
    s = template or reber_string(rng)
    if rng.random() < foreign_fraction:
        return s.translate(str.maketrans(ALPHABET, "".join(rng.sample(FOREIGN, 5))))
    while True:
        inner = list(s[1:-1])
        del inner[rng.randrange(len(inner))]
        inner.insert(rng.randrange(len(inner) + 1), rng.choice(ALPHABET))
        out = "B" + "".join(inner) + "E"
        if not is_reber(out):
            return out


def generate_reber(n: int = 25_000, seed: int = 0, foreign_fraction: float = 0.56,
                   min_length: int = 11, max_length: int = 53) -> tuple[list[str], np.ndarray]:
    """``n`` strings, half valid (all distinct) and half invalid, shuffled; labels 1 / 0.

    Valid lengths are kept in [``min_length``, ``max_length``], the range of the deepstruct
    data (11 / 53). Every invalid string is made from a valid one of the set, keeping its
    length, so the two classes have the same length distribution and length alone says
    nothing about the label (on the paper's strings it says a lot: ``length_baseline``).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    rng = random.Random(seed)
    valid: dict[str, None] = {}
    while len(valid) < n // 2:
        s = reber_string(rng)
        if min_length <= len(s) <= max_length:
            valid[s] = None
    templates = list(valid)  # each valid string lends its length to one invalid string
    invalid = [invalid_string(rng, foreign_fraction, templates[i % len(templates)])
               for i in range(n - n // 2)]
    strings = [*valid, *invalid]
    labels = np.array([1] * len(valid) + [0] * len(invalid), dtype=np.int64)
    order = np.random.default_rng(seed).permutation(n)
    return [strings[i] for i in order], labels[order]


def length_baseline(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                    test_y: np.ndarray) -> float:
    """Test accuracy of predicting, for each string length, the majority class of that length
    in the training split (encoded, zero-padded strings). An RNN with every input weight
    pruned can still learn this: its state moves from the biases at every step."""
    lengths_tr, lengths_te = (np.asarray(train_x) != 0).sum(1), (np.asarray(test_x) != 0).sum(1)
    train_y = np.asarray(train_y)
    top = np.bincount(train_y).argmax()
    pred = np.full(len(lengths_te), top)
    for n in np.unique(lengths_te):
        seen = train_y[lengths_tr == n]
        if len(seen):
            pred[lengths_te == n] = np.bincount(seen).argmax()
    return float(np.mean(pred == np.asarray(test_y)))


def _known(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Which rows of ``x`` hold only letters that some valid training string holds."""
    legal = np.zeros(256, bool)
    legal[np.unique(train_x[train_y == 1])] = True  # includes the padding 0
    return legal[x].all(1)


def letter_baseline(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                    test_y: np.ndarray) -> float:
    """Test accuracy of calling a string invalid exactly when it holds a letter that no valid
    training string holds (encoded strings). It needs no grammar: with 56% of the invalid
    strings in foreign letters it scores about 78%, where short training budgets stop."""
    train_x, test_x, train_y, test_y = map(np.asarray, (train_x, test_x, train_y, test_y))
    pred = _known(train_x, train_y, test_x).astype(np.int64)
    return float(np.mean(pred == test_y))


def letter_length_baseline(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                           test_y: np.ndarray) -> float:
    """The two rules together: a foreign letter → invalid; otherwise the length rule, learnt
    on the training strings without foreign letters. 85.7% on the paper's test split."""
    train_x, test_x, train_y, test_y = map(np.asarray, (train_x, test_x, train_y, test_y))
    known_tr, known_te = _known(train_x, train_y, train_x), _known(train_x, train_y, test_x)
    by_length = length_baseline(train_x[known_tr], train_y[known_tr], test_x[known_te],
                                test_y[known_te]) if known_te.any() else 0.0
    return float((np.sum(test_y[~known_te] == 0) + by_length * known_te.sum()) / len(test_y))


def encode(strings: list[str], length: int | None = None) -> np.ndarray:
    """ASCII codes, right-padded with 0 (no string contains NUL): shape (n, length)."""
    length = length or max(map(len, strings), default=0)
    try:
        joined = "".join(s[:length].ljust(length, "\0") for s in strings).encode("ascii")
    except UnicodeEncodeError:
        i = next(i for i, s in enumerate(strings) if not s[:length].isascii())
        raise ValueError(f"string {i} has a non-ASCII character: {strings[i]!r}") from None
    return np.frombuffer(joined, np.uint8).reshape(len(strings), length).astype(np.int64)


def read_reber_csv(path) -> tuple[list[str], np.ndarray]:
    """The deepstruct CSVs: columns ``string`` and ``valid`` (an unnamed index may lead)."""
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows, [])
        if "string" not in header or "valid" not in header:
            raise ValueError(f"{path}: expected columns 'string' and 'valid'")
        i, j = header.index("string"), header.index("valid")
        pairs = [(r[i], r[j]) for r in rows]
    return [p[0] for p in pairs], np.array([int(p[1]) for p in pairs], np.int64)
