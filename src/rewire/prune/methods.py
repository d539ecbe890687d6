"""Pruning methods: a score per weight, and masks that keep the highest scores.

Small functional API in the spirit of ``torch.nn.utils.prune``::

    prune.magnitude(model, amount=0.8, scope="global")   # class-blinded: one threshold
    prune.magnitude(model, amount=0.8, scope="layer")    # class-uniform: same share per layer
    prune.class_distributed(model, amount=0.8)           # |w| / std of its layer, one ranking
    prune.random(model, amount=0.8, seed=0)
    prune.obd(model, amount=0.8, x=x, y=y)               # Optimal Brain Damage saliency

Each method is a class with one ``scores`` method; :func:`apply_pruning` turns scores into
masks with an exact count of pruned weights (ties broken by position, so results are
deterministic). Weights already pruned rank below every live weight, so they stay pruned and
pruning is monotone. "Class" is deepstruct's word for a layer (Han et al. 2015).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..registry import Registry
from ..sparse.masks import get_mask, param_list, prunable_weights, sparsify
from ..sparse.ternary import Ternary

__all__ = ["PruningMethod", "Magnitude", "LayerScaledMagnitude", "RandomScores",
           "OptimalBrainDamage", "apply_pruning", "magnitude", "class_distributed", "random",
           "obd", "check_amount", "METHODS", "make_method"]


def check_amount(amount: float) -> float:
    """Check a pruning amount (the share of weights to prune).

    Args:
        amount: The share, a real number in [0, 1] (a bool is refused).

    Returns:
        ``amount`` as a float.

    Raises:
        ValueError: If ``amount`` is not a number in [0, 1].

    Example:
        >>> check_amount(1)
        1.0
        >>> check_amount(1.5)
        Traceback (most recent call last):
        ...
        ValueError: amount (share of weights to prune) must be in [0, 1], got 1.5
    """
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not (
            0.0 <= amount <= 1.0):
        raise ValueError(f"amount (share of weights to prune) must be in [0, 1], got {amount!r}")
    return float(amount)


class PruningMethod:
    """A pruning criterion: ``scores(model, layers)`` -> per-layer importance (higher = keep).

    A subclass implements ``scores``; ``apply_pruning`` turns its scores into masks. The base
    class takes no constructor arguments.

    Example:
        >>> class Smallest(PruningMethod):  # keeps the smallest weights
        ...     def scores(self, model, layers):
        ...         return {n: -s for n, s in Magnitude().scores(model, layers).items()}
        >>> m = apply_pruning(nn.Linear(4, 4), Smallest(), amount=0.25)
        >>> int((m.weight == 0).sum())
        4
    """

    def scores(self, model: nn.Module, layers: list[str]) -> dict[str, torch.Tensor]:
        """The importance of every weight of ``layers`` (higher = keep).

        Args:
            model: The model being pruned.
            layers: Layer names, as in ``rewire.sparse.prunable_weights``.

        Returns:
            Layer name -> a score tensor of that weight's shape.

        Raises:
            NotImplementedError: Always, in the base class.
        """
        raise NotImplementedError


def _magnitude_weight(module: nn.Module, pname: str) -> torch.Tensor:
    """The weight magnitude pruning ranks: the effective (masked) weight, but before the sign
    step of a ternary layer, whose effective weights are all -1 / +1 and would rank by
    position only; there the latent weight (``original * mask``) is ranked."""
    if not parametrize.is_parametrized(module, pname):
        return getattr(module, pname).detach()
    w = param_list(module, pname).original.detach()
    for f in param_list(module, pname):
        if not isinstance(f, Ternary):
            w = f(w)
    return w


class Magnitude(PruningMethod):
    """|w| of the effective (masked) weight; of the latent weight in a ternary layer.

    Takes no constructor arguments.

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 1, bias=False))
        >>> with torch.no_grad():
        ...     _ = m[0].weight.copy_(torch.tensor([[-3.0, 0.5]]))
        >>> Magnitude().scores(m, ["0.weight"])
        {'0.weight': tensor([[3.0000, 0.5000]])}
    """

    def scores(self, model, layers):
        table = prunable_weights(model)
        return {n: _magnitude_weight(*table[n]).abs() for n in layers}


class LayerScaledMagnitude(PruningMethod):
    """|w| divided by the standard deviation of its layer's live weights (class-distributed).

    Han et al. (2015) prune each layer at ``quality × std(layer)``; one global ranking of
    ``|w| / std`` is the same rule with the quality chosen to hit an exact amount. A ternary
    layer's latent weights are ranked, as in :class:`Magnitude`. A layer with fewer than two
    live weights is divided by 1. Takes no constructor arguments.
    """

    def scores(self, model, layers):
        table = prunable_weights(model)
        out = {}
        for n in layers:
            w = _magnitude_weight(*table[n])
            live = w[w != 0]
            std = live.std() if live.numel() > 1 else torch.tensor(1.0)
            out[n] = w.abs() / std.clamp_min(1e-12)
        return out


class RandomScores(PruningMethod):
    """Uniform random scores from a seeded generator (the baseline).

    Args:
        seed: Seed of the method's own generator (the global torch RNG is not touched);
            successive ``scores`` calls continue its stream.
    """

    def __init__(self, seed: int = 0):
        self.generator = torch.Generator().manual_seed(seed)

    def scores(self, model, layers):
        table = prunable_weights(model)
        return {n: torch.rand(getattr(*table[n]).shape, generator=self.generator)
                for n in layers}


class OptimalBrainDamage(PruningMethod):
    """Saliency ½·h_ii·w_i² (LeCun et al. 1990) with the Hessian diagonal of the loss on
    ``(x, y)`` estimated by Hutchinson's method: E[v ⊙ Hv] over Rademacher vectors v
    (``samples`` of them), Hessian-vector products by double backward.

    ``scores`` runs the model in eval mode (then restores its mode) and differentiates with
    respect to the trainable tensor behind each weight (the latent weight of a masked layer).

    Args:
        x: The input batch.
        y: Its targets, as ``loss`` takes them.
        samples: How many Rademacher vectors estimate the Hessian diagonal.
        loss (Callable): ``loss(model(x), y)``, a scalar, twice differentiable; default
            cross-entropy (``y``: class indices).
        seed: Seed of the generator that draws the Rademacher vectors.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, samples: int = 8,
                 loss=torch.nn.functional.cross_entropy, seed: int = 0):
        self.x, self.y, self.samples, self.loss, self.seed = x, y, samples, loss, seed

    def scores(self, model, layers):
        table = prunable_weights(model)
        params = [_original(*table[n]) for n in layers]
        was_training = model.training
        model.eval()
        loss = self.loss(model(self.x), self.y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        gen = torch.Generator().manual_seed(self.seed)
        diag = [torch.zeros_like(p) for p in params]
        for _ in range(self.samples):
            vs = [torch.randint(0, 2, p.shape, generator=gen).to(p.dtype) * 2 - 1
                  for p in params]
            hv = torch.autograd.grad(grads, params, vs, retain_graph=True)
            for d, v, h in zip(diag, vs, hv):
                d += v * h / self.samples
        model.train(was_training)
        return {n: 0.5 * d.detach().abs() * getattr(*table[n]).detach() ** 2
                for n, d in zip(layers, diag)}


def _original(module: nn.Module, pname: str) -> torch.Tensor:
    """The trainable tensor behind a (possibly parametrized) weight."""
    if parametrize.is_parametrized(module, pname):
        return param_list(module, pname).original
    return getattr(module, pname)


def _keep_top(scores: torch.Tensor, n_prune: int) -> torch.Tensor:
    """Boolean mask that zeroes exactly ``n_prune`` lowest scores (stable on ties)."""
    flat = scores.flatten()
    mask = torch.ones_like(flat, dtype=torch.bool)
    if n_prune > 0:
        order = torch.sort(flat, stable=True).indices
        mask[order[:n_prune]] = False
    return mask.view_as(scores)


def apply_pruning(
    model: nn.Module,
    method: PruningMethod,
    amount: float,
    scope: str = "layer",
    layers: list[str] | None = None,
    scores: dict[str, torch.Tensor] | None = None,
) -> nn.Module:
    """Prune ``amount`` of the weights of ``layers`` (all prunable layers by default).

    Exactly ``round(amount * n)`` weights are masked out, the lowest scores first (ties by
    position). Weights already masked out rank below every live one: they count towards
    ``amount`` and stay masked.

    Args:
        model: The model to prune, in place; masks are added first where missing.
        method: The criterion that scores the weights (not called when ``scores`` is given).
        amount: target share of masked-out weights, in [0, 1].
        scope: ``"layer"``, the same share in every layer; ``"global"``, one ranking over
            all the layers together.
        layers: Names of the layers to prune (as in ``rewire.sparse.prunable_weights``);
            ``None``: every prunable layer.
        scores: the method's scores when the caller has them already (a scheme that sized
            its step from them): the same scores size the step and choose the weights.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: If ``amount`` is not in [0, 1], ``scope`` is neither ``"layer"`` nor
            ``"global"``, or ``model`` has no prunable weights.
        KeyError: If a name in ``layers`` is not a prunable layer of ``model``.

    Example:
        >>> m = apply_pruning(nn.Linear(10, 10), Magnitude(), amount=0.3)
        >>> int((m.weight == 0).sum())
        30
    """
    amount = check_amount(amount)
    if scope not in ("layer", "global"):
        raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
    if not prunable_weights(model):
        raise ValueError(f"{type(model).__name__} has no prunable weights (Linear, Conv or "
                         "recurrent layers)")
    sparsify(model, layers)
    layers = layers if layers is not None else list(prunable_weights(model))
    scores = scores if scores is not None else method.scores(model, layers)
    scores = {n: s.masked_fill(~get_mask(model, n), -torch.inf)  # pruned stay pruned
              for n, s in scores.items()}
    if scope == "layer":
        for n in layers:
            get_mask(model, n).copy_(_keep_top(scores[n], round(amount * scores[n].numel())))
    else:
        flat = torch.cat([scores[n].flatten() for n in layers])
        keep = _keep_top(flat, round(amount * flat.numel()))
        offset = 0
        for n in layers:
            size = scores[n].numel()
            get_mask(model, n).copy_(keep[offset : offset + size].view_as(scores[n]))
            offset += size
    return model


def magnitude(model: nn.Module, amount: float, scope: str = "layer",
              layers: list[str] | None = None) -> nn.Module:
    """Magnitude pruning: zero the ``amount`` smallest |w| per layer or globally (the
    latent |w| in a ternary layer).

    Args:
        model: The model to prune, in place (masks are added where missing).
        amount: The share of weights to mask out, in [0, 1].
        scope: ``"layer"`` (class-uniform: the same share in every layer) or ``"global"``
            (class-blinded: one threshold over all layers).
        layers: Names of the layers to prune; ``None``: every prunable layer.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: If ``amount`` or ``scope`` is invalid, or ``model`` has no prunable
            weights.
        KeyError: If a name in ``layers`` is not a prunable layer of ``model``.

    Example:
        >>> from rewire.sparse import sparsity
        >>> m = magnitude(nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 2)), 0.5, "global")
        >>> sparsity(m)
        0.5
    """
    return apply_pruning(model, Magnitude(), amount, scope, layers)


def class_distributed(model: nn.Module, amount: float,
                      layers: list[str] | None = None) -> nn.Module:
    """Magnitude class-distributed: rank |w| / std(layer) over all layers together.

    Args:
        model: The model to prune, in place (masks are added where missing).
        amount: The share of weights to mask out over all ``layers`` together, in [0, 1].
        layers: Names of the layers to prune; ``None``: every prunable layer.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: If ``amount`` is not in [0, 1] or ``model`` has no prunable weights.
        KeyError: If a name in ``layers`` is not a prunable layer of ``model``.

    Example:
        >>> from rewire.sparse import sparsity
        >>> sparsity(class_distributed(nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 2)), 0.5))
        0.5
    """
    return apply_pruning(model, LayerScaledMagnitude(), amount, "global", layers)


def random(model: nn.Module, amount: float, scope: str = "global", seed: int = 0,
           layers: list[str] | None = None) -> nn.Module:
    """Random pruning: zero a uniformly random ``amount`` of the weights.

    Args:
        model: The model to prune, in place (masks are added where missing).
        amount: The share of weights to mask out, in [0, 1].
        scope: ``"global"`` (one draw over all layers) or ``"layer"`` (the same share in
            every layer).
        seed: Seed of the scores' own generator (the global torch RNG is not touched).
        layers: Names of the layers to prune; ``None``: every prunable layer.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: If ``amount`` or ``scope`` is invalid, or ``model`` has no prunable
            weights.
        KeyError: If a name in ``layers`` is not a prunable layer of ``model``.

    Example:
        >>> m = random(nn.Linear(10, 10), amount=0.25, seed=0)
        >>> int((m.weight == 0).sum())
        25
    """
    return apply_pruning(model, RandomScores(seed), amount, scope, layers)


def obd(model: nn.Module, amount: float, x: torch.Tensor, y: torch.Tensor,
        scope: str = "global", samples: int = 8, layers: list[str] | None = None) -> nn.Module:
    """Optimal Brain Damage: zero the weights of least saliency on the batch ``(x, y)``.

    The loss is cross-entropy; see ``OptimalBrainDamage`` (seed 0) for the estimate.

    Args:
        model: The model to prune, in place (masks are added where missing).
        amount: The share of weights to mask out, in [0, 1].
        x: The input batch.
        y: Its class indices.
        scope: ``"global"`` (one ranking over all layers) or ``"layer"``.
        samples: How many Rademacher vectors estimate the Hessian diagonal.
        layers: Names of the layers to prune; ``None``: every prunable layer.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: If ``amount`` or ``scope`` is invalid, or ``model`` has no prunable
            weights.
        KeyError: If a name in ``layers`` is not a prunable layer of ``model``.

    Example:
        >>> from rewire.sparse import sparsity
        >>> x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
        >>> m = obd(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), 0.5, x, y)
        >>> sparsity(m)
        0.5
    """
    return apply_pruning(model, OptimalBrainDamage(x, y, samples), amount, scope, layers)


# deepstruct's five selection methods: name -> fn(seed, data) -> (PruningMethod, scope)
METHODS = Registry("pruning method")
METHODS.register("random", lambda seed, data: (RandomScores(seed), "global"))
METHODS.register("magnitude-blinded", lambda seed, data: (Magnitude(), "global"))
METHODS.register("magnitude-uniform", lambda seed, data: (Magnitude(), "layer"))
METHODS.register("magnitude-distributed", lambda seed, data: (LayerScaledMagnitude(), "global"))


@METHODS.register("obd")
def _obd(seed: int, data: tuple[torch.Tensor, torch.Tensor] | None):
    if data is None:
        raise ValueError("obd needs data=(x, y) to estimate the Hessian diagonal")
    return OptimalBrainDamage(*data, seed=seed), "global"


def make_method(name: str, seed: int = 0, data: tuple | None = None):
    """``(PruningMethod, scope)`` for one of :data:`METHODS`; OBD needs ``data=(x, y)``.

    Args:
        name: ``"random"``, ``"magnitude-blinded"``, ``"magnitude-uniform"``,
            ``"magnitude-distributed"`` or ``"obd"``.
        seed: Seed of the random scores and of OBD's Rademacher vectors.
        data: The batch ``(x, y)`` OBD estimates the Hessian on; ignored by the others.

    Returns:
        (tuple[PruningMethod, str]): The method and the scope it prunes with
            (``"layer"`` or ``"global"``), for ``apply_pruning``.

    Raises:
        ValueError: If ``name`` is not a registered method, or it is ``"obd"`` and
            ``data`` is None.

    Example:
        >>> method, scope = make_method("magnitude-uniform")
        >>> type(method).__name__, scope
        ('Magnitude', 'layer')
    """
    return METHODS.build(name, seed, data)
