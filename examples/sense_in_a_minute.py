"""SENSE (AANN Algorithm 2) on the embedded digits: no gradients at all.

Start from a random pure ternary CNN with 80% of every layer's weights zero, then climb the
architecture manifold: each step samples a neighbourhood of bit-swaps in one layer (a
nonzero weight moves onto a zero place, so the per-layer counts of -1, 0, +1 never change),
scores every neighbour exactly on a batch of training images, and takes the best one when
it strictly beats the current network. Validation only picks the network kept; the test
split is only reported. `rewire sense --dataset digits --init random --sparsity 0.8 --out
runs/sense` runs the search with its default sizes into a run folder.

    python examples/sense_in_a_minute.py
"""

from rewire.data import load_dataset
from rewire.models import create_model
from rewire.search import SenseConfig, run_sense
from rewire.sparse import random_wiring, read_wiring, ternarize, write_wiring

data = load_dataset("digits")
net = ternarize(create_model("aann-mnist-cnn", data.input_shape, data.num_classes))
write_wiring(net, random_wiring(net, sparsity=0.8, seed=0))
start = read_wiring(net)

# smaller neighbourhoods and batches than the command's defaults: more, cheaper steps
cfg = SenseConfig(steps=400, batch=512, seed=0,
                  neighbours={"conv1.weight": 8, "conv2.weight": 32, "fc.weight": 256})
r = run_sense(cfg, net, data.train, data.val, data.test, progress=False, note=lambda _: None)
print(f"evaluator: {r['evaluator']}, exact arithmetic: {r['exact']}")
print(f"start: val {r['start_val_accuracy']:.4f}  test {r['start_test_accuracy']:.4f}")
print(f"kept:  val {r['final_val_accuracy']:.4f}  test {r['final_test_accuracy']:.4f} "
      f"(step {r['selected_step']} of {r['steps']})")
print(f"neighbours scored {r['neighbours_scored']}, moves taken {r['accepted_moves']}")
print(f"same family as the start: {r['wiring'].same_family(start)}")
for name, w in r["wiring"].items():
    print(f"{name:<14} -1: {int((w == -1).sum()):>5}  0: {int((w == 0).sum()):>6}  "
          f"+1: {int((w == 1).sum()):>5}")
