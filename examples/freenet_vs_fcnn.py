"""A FreeNet against its parameter-matched fully connected net, on the embedded digits.

FreeNet(k): an encoder, k ReLU neurons wired as a DAG (every edge j -> i with j < i at the
start), a decoder. FreeEvolve trains it and, between epochs, prunes edges between neurons
that are rarely active together and adds edges between neurons that often are (NCAM /
NCIM, FreeNets Table 1). The baseline has one hidden layer, as wide as makes its parameter
count closest to the FreeNet's; both get the same epochs, optimiser and seed.
`rewire freenet --dataset mnist --k 100 --out runs/freenet100` is the full-size run.

    python examples/freenet_vs_fcnn.py
"""

import tempfile

import torch

from rewire.data import Split, load_dataset
from rewire.freenet import EvolveConfig, FreeNet, count_params, fcnn, free_evolve, matched_width
from rewire.train import evaluate, fit

K, EPOCHS, SEED = 20, 20, 0
data = load_dataset("digits")
mean, std = data.train.x.mean(), data.train.x.std()  # standardised with training statistics
train, val, test = (Split((s.x - mean) / std, s.y) for s in (data.train, data.val, data.test))
d_in = train.x[0].numel()

torch.manual_seed(SEED)
net = FreeNet(d_in, K, data.num_classes)
params = count_params(net)  # encoder, k(k-1)/2 DAG edges, decoder
with tempfile.TemporaryDirectory() as out:  # FreeEvolve writes its checkpoint and logs here
    free_evolve(net, train, val, EvolveConfig(epochs=EPOCHS, seed=SEED), out, progress=False)
print(f"FreeNet(k={K}): {params} parameters with the dense DAG; after FreeEvolve "
      f"{count_params(net)}: {net.live_edges} of {K * (K - 1) // 2} edges live, depth "
      f"{len(net.levels())}")

width = matched_width(d_in, data.num_classes, params)
torch.manual_seed(SEED)
base = fcnn(d_in, width, data.num_classes)
fit(base, train, val, epochs=EPOCHS, lr=2e-3, batch_size=128, keep_best=True, seed=SEED,
    progress=False)
print(f"FCNN (width {width}): {count_params(base)} parameters")

free_acc, fc_acc = evaluate(net, test)["accuracy"], evaluate(base, test)["accuracy"]
print(f"test accuracy: FreeNet {free_acc:.4f}, FCNN {fc_acc:.4f}, "
      f"difference {100 * (free_acc - fc_acc):+.2f} points")
