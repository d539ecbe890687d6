"""Bring a model pruned with torch.nn.utils.prune into rewire, then make it ternary.

torch's pruning keeps ``weight_orig`` and ``weight_mask`` and a forward pre-hook;
``rewire.prune.from_torch_prune`` turns them into rewire masks in place (same masks, same
outputs), so rewire's training loop, reports, ternarization and search all apply.

    python examples/torch_prune_import.py
"""

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

import rewire.prune
from rewire.data import load_dataset
from rewire.sparse import format_report, get_mask, is_sparse, sparsity_report, ternarize
from rewire.train import evaluate, fit, predict

AMOUNT = 0.7
torch.manual_seed(0)
data = load_dataset("digits")
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
fit(model, data.train, data.val, epochs=10, lr=3e-3, keep_best=True, progress=False)
print(f"dense: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")

for layer in (model[1], model[3]):  # torch's own L1 pruning, 70% of each layer
    torch_prune.l1_unstructured(layer, name="weight", amount=AMOUNT)
torch_masks = {"1.weight": model[1].weight_mask.bool(), "3.weight": model[3].weight_mask.bool()}
before = predict(model, data.test.x)
print(f"torch-pruned {AMOUNT:.0%}: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")

model = rewire.prune.from_torch_prune(model)  # in place; returns the same model
same = all(torch.equal(get_mask(model, n), m) for n, m in torch_masks.items())
diff = (predict(model, data.test.x) - before).abs().max().item()
print(f"imported: rewire masks {is_sparse(model)}, masks identical to torch's {same}, "
      f"largest change in logits {diff:.1e}")

fit(model, data.train, data.val, epochs=10, lr=1e-3, keep_best=True, progress=False)
print(f"fine-tuned: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")
ternarize(model)  # -1 / +1 on the kept weights, 0 on the pruned ones
fit(model, data.train, data.val, epochs=10, lr=1e-2, keep_best=True, progress=False)
print(f"ternary: test accuracy {evaluate(model, data.test)['accuracy']:.4f}")
print(format_report(sparsity_report(model)))
