"""Sparsify, prune and ternarize your own torch model with rewire.

A small CNN of your own on the embedded 8x8 digits (no download): train it dense, prune 80%
of every layer's weights by magnitude, fine-tune with the masks fixed, then make every kept
weight exactly -1 or +1 and train the signs with a straight-through estimator.

    python examples/sparsify_your_model.py
"""

import torch
from torch import nn

from rewire import prune
from rewire.data import load_dataset
from rewire.sparse import format_report, is_ternary, sparsity, sparsity_report, ternarize
from rewire.train import evaluate, fit

SPARSITY = 0.8


class MyNet(nn.Module):  # any nn.Module: rewire finds its Linear / Conv / RNN weights
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


torch.manual_seed(0)
data = load_dataset("digits")  # scikit-learn's 1 797 digits, split train / val / test
model = MyNet()
fit(model, data.train, data.val, epochs=10, lr=3e-3, keep_best=True, progress=False)
print(f"dense: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")

prune.magnitude(model, amount=SPARSITY, scope="layer")  # masks on every weight, 80% zero
print(f"pruned {SPARSITY:.0%}: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")
fit(model, data.train, data.val, epochs=10, lr=3e-3, keep_best=True, progress=False)
print(f"fine-tuned: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")

ternarize(model)  # the forward pass now uses sign(w) on the mask: -1, 0 or +1
fit(model, data.train, data.val, epochs=10, lr=1e-2, keep_best=True, progress=False)
print(f"ternary: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")
print(f"ternary: {is_ternary(model)}, sparsity {sparsity(model):.4f}")
print(format_report(sparsity_report(model)))
