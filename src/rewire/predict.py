"""Structural performance prediction (deepstruct sections 4.3-4.4).

From rows that carry graph properties and a measured accuracy: the Pearson correlation of
each property with accuracy (Table 1), and the R² on a held-out split of three scikit-learn
regressors predicting accuracy from the properties: Bayesian ridge, random forest, AdaBoost,
averaged over repeated random splits; Kendall's tau of a regressor's ranking on held-out
rows (what a search needs: the order of candidates, not their accuracy); and
:class:`OnlinePredictor`, refitted on the candidates a search has trained so far.
"""

from __future__ import annotations

import numpy as np

from .extras import require
from .registry import Registry

__all__ = ["REGRESSORS", "pearson_table", "prediction_r2", "prediction_tau",
           "OnlinePredictor", "kendall_tau"]

REGRESSORS = Registry("regressor")


@REGRESSORS.register("bayesian-ridge")
def _bayesian_ridge(seed: int):
    from sklearn.linear_model import BayesianRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), BayesianRidge())


@REGRESSORS.register("random-forest")
def _random_forest(seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=300, random_state=seed)


@REGRESSORS.register("adaboost")
def _adaboost(seed: int):
    from sklearn.ensemble import AdaBoostRegressor

    return AdaBoostRegressor(n_estimators=200, random_state=seed)


def _regressor(name: str, seed: int):
    require("sklearn", "rewire.predict")
    return REGRESSORS.build(name, seed)


def _matrix(rows: list[dict], features: list[str], target: str):
    missing = [f for f in [*features, target] if f not in rows[0]]
    if missing:
        raise ValueError(f"rows lack the columns {', '.join(missing)}")
    x = np.array([[r[f] for f in features] for r in rows], dtype=np.float64)
    y = np.array([r[target] for r in rows], dtype=np.float64)
    return x, y


def pearson_table(rows: list[dict], features: list[str],
                  target: str = "test_accuracy") -> dict[str, float | None]:
    """Property -> Pearson r with ``target`` (None where the property is constant).

    Args:
        rows: one dict per measured network, holding ``features`` and ``target``.
        features: the property columns to correlate.
        target: the measured column.

    Returns:
        Per feature, Pearson's r with ``target``, or ``None`` when the feature or the target
            is constant over the rows.

    Raises:
        ValueError: fewer than 3 rows, or the first row lacks a feature or ``target``.

    Example:
        >>> rows = [{"edges": float(i), "depth": 3.0, "test_accuracy": 0.5 + 0.01 * i}
        ...         for i in range(5)]
        >>> pearson_table(rows, ["edges", "depth"])
        {'edges': 1.0, 'depth': None}
    """
    if len(rows) < 3:
        raise ValueError(f"need at least 3 rows for a correlation, got {len(rows)}")
    x, y = _matrix(rows, features, target)
    out: dict[str, float | None] = {}
    for i, f in enumerate(features):
        if np.ptp(x[:, i]) == 0 or np.ptp(y) == 0:
            out[f] = None
        else:
            out[f] = float(np.corrcoef(x[:, i], y)[0, 1])
    return out


def prediction_r2(rows: list[dict], features: list[str], target: str = "test_accuracy",
                  test_fraction: float = 0.3, repeats: int = 10, seed: int = 0,
                  regressors=REGRESSORS) -> dict[str, dict[str, float]]:
    """Regressor -> {"mean", "std", "first"} of the R² on a held-out ``test_fraction`` of the
    rows, over ``repeats`` seeded random splits ("first" is the split of seed ``seed`` alone,
    the paper's protocol of one split). On a 36-row preview of the priors run one split's
    R² moved by ±0.5 with the split, so the mean over splits is the number to compare.

    Args:
        rows: one dict per measured network, holding ``features`` and ``target``.
        features: the columns the regressors see.
        target: the measured column.
        test_fraction: share of rows held out in each split.
        repeats: seeded random splits (``seed``, ``seed + 1``, ...).
        seed: the first split's seed (also each regressor's random state in that split).
        regressors (Iterable[str]): names in :data:`REGRESSORS`; all of them by default.

    Returns:
        Per regressor, ``{"mean", "std", "first"}`` of the held-out R².

    Raises:
        ValueError: fewer than 10 rows, ``repeats`` below 1, missing columns, or an
            unknown regressor.

    Example:
        >>> rows = [{"a": float(i), "b": float(i % 3), "acc": 0.1 * i} for i in range(12)]
        >>> r2 = prediction_r2(rows, ["a", "b"], "acc", repeats=2, regressors=["bayesian-ridge"])
        >>> round(r2["bayesian-ridge"]["mean"], 3)
        1.0
    """
    require("sklearn", "rewire.predict")
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    if len(rows) < 10:
        raise ValueError(f"need at least 10 rows to fit and hold out, got {len(rows)}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    x, y = _matrix(rows, features, target)
    scores: dict[str, list[float]] = {name: [] for name in regressors}
    for split in range(seed, seed + repeats):
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=split)
        for name in regressors:
            pred = _regressor(name, split).fit(xtr, ytr).predict(xte)
            scores[name].append(float(r2_score(yte, pred)))
    return {name: {"mean": float(np.mean(v)), "std": float(np.std(v)), "first": v[0]}
            for name, v in scores.items()}


def kendall_tau(a, b) -> float:
    """Kendall's tau-b between two sequences (0.0 when either is constant).

    Args:
        a (ArrayLike): the first sequence of numbers.
        b (ArrayLike): the second, as long as ``a``.

    Returns:
        Tau-b in [-1, 1]; 0.0 when there are fewer than 2 values or either sequence is
            constant.

    Example:
        >>> kendall_tau([1, 2, 3, 4], [10, 20, 40, 30])
        0.6666666666666669
    """
    require("scipy", "Kendall's tau")
    from scipy.stats import kendalltau

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(kendalltau(a, b).statistic)


def prediction_tau(rows: list[dict], features: list[str], target: str,
                   regressor: str = "random-forest", test_fraction: float = 0.3,
                   repeats: int = 10, seed: int = 0) -> dict[str, float]:
    """Kendall's tau between predicted and measured ``target`` on held-out rows.

    Args:
        rows: one dict per measured candidate, holding ``features`` and ``target``.
        features: the columns the regressor sees.
        target: the measured column (e.g. ``"fitness"``).
        regressor: a name in :data:`REGRESSORS`.
        test_fraction: share of rows held out in each split.
        repeats: seeded random splits (``seed``, ``seed + 1``, ...).
        seed: the first split's seed (also the regressor's random state in that split).

    Returns:
        ``{"mean", "std", "first", "r2_mean"}`` over the splits: tau's mean, standard
            deviation and value on the first split, and the mean held-out R².

    Raises:
        ValueError: fewer than 10 rows, missing columns, or an unknown regressor.

    Example:
        >>> rows = [{"a": float(i), "b": float(i % 3), "acc": 0.1 * i} for i in range(12)]
        >>> prediction_tau(rows, ["a", "b"], "acc", "bayesian-ridge", repeats=2)["mean"]
        1.0
    """
    require("sklearn", "rewire.predict")
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    if len(rows) < 10:
        raise ValueError(f"need at least 10 rows to fit and hold out, got {len(rows)}")
    x, y = _matrix(rows, features, target)
    taus, r2s = [], []
    for split in range(seed, seed + repeats):
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=split)
        pred = _regressor(regressor, split).fit(xtr, ytr).predict(xte)
        taus.append(kendall_tau(pred, yte))
        r2s.append(float(r2_score(yte, pred)))
    return {"mean": float(np.mean(taus)), "std": float(np.std(taus)), "first": taus[0],
            "r2_mean": float(np.mean(r2s))}


class OnlinePredictor:
    """A regressor from features to fitness, refitted on the candidates trained so far.

    Args:
        features: the feature names, in the order rows are read.
        regressor: a name in :data:`REGRESSORS`.
        min_rows: below this many trained rows, :attr:`ready` is False and the caller
            trains instead of predicting.
        seed: the regressor's random state.

    Example:
        >>> rows = [{"a": float(i), "b": float(i % 3), "fit": 0.1 * i} for i in range(20)]
        >>> p = OnlinePredictor(["a", "b"], "bayesian-ridge", min_rows=10).fit(rows, "fit")
        >>> p.ready, round(float(p.predict([{"a": 30.0, "b": 0.0}])[0]), 1)
        (True, 3.0)
    """

    def __init__(self, features: list[str], regressor: str = "random-forest",
                 min_rows: int = 10, seed: int = 0):
        self.features, self.name, self.min_rows, self.seed = features, regressor, min_rows, seed
        self.model = None

    @property
    def ready(self) -> bool:
        return self.model is not None

    def fit(self, rows: list[dict], target: str) -> OnlinePredictor:
        """Refit on ``rows`` (no-op, and not ready, while there are fewer than min_rows)."""
        if len(rows) < self.min_rows:
            self.model = None
            return self
        x, y = _matrix(rows, self.features, target)
        self.model = _regressor(self.name, self.seed).fit(x, y)
        return self

    def predict(self, rows: list[dict]) -> np.ndarray:
        """Predicted target of each row; ValueError before the first successful fit."""
        if self.model is None:
            raise ValueError("the predictor has not been fitted on enough rows yet")
        x = np.array([[r[f] for f in self.features] for r in rows], dtype=np.float64)
        return self.model.predict(x)
