"""Structural performance prediction (deepstruct sections 4.3-4.4).

From rows that carry graph properties and a measured accuracy: the Pearson correlation of
each property with accuracy (Table 1), and the R² on a held-out split of three scikit-learn
regressors predicting accuracy from the properties: Bayesian ridge, random forest, AdaBoost,
averaged over repeated random splits.
"""

from __future__ import annotations

import numpy as np

from .extras import require
from .registry import Registry

__all__ = ["REGRESSORS", "pearson_table", "prediction_r2"]

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
    """Property -> Pearson r with ``target`` (None where the property is constant)."""
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
    R² moved by ±0.5 with the split, so the mean over splits is the number to compare."""
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
