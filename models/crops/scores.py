"""Classification scores for crop maps, each a short pure function.

Definitions follow the remote-sensing accuracy-assessment convention (Olofsson et al. 2014,
*Good practices for estimating area and assessing accuracy of land change*, Remote Sensing
of Environment 148: 42–57) and scikit-learn's for F1:

* confusion matrix ``M[i, j]`` = fields of true class ``i`` predicted as ``j``;
* overall accuracy ``OA = Σ_i M[i, i] / Σ M``;
* precision (user's accuracy) of class ``j`` = ``M[j, j] / Σ_i M[i, j]``;
* recall (producer's accuracy) of class ``i`` = ``M[i, i] / Σ_j M[i, j]``;
* ``F1 = 2 P R / (P + R)`` (0 when both are 0);
* macro-F1 over a set of classes = the unweighted mean of their F1, so a rare class counts
  as much as cotton. Here it is taken over the classes with enough fields to score
  (``min_support``): the mean over classes with 3 fields is noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["classification_scores", "confusion", "format_scores"]


def confusion(truth: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """``M[i, j]``: rows true class, columns predicted class, in ``labels`` order."""
    pos = {c: i for i, c in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, pred, strict=True):
        m[pos[t], pos[p]] += 1
    return m


def classification_scores(
    truth: Sequence[str],
    pred: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    min_support: int = 50,
    support: dict[str, int] | None = None,
) -> dict[str, Any]:
    """OA, macro-F1 over the well-supported classes, per-class P/R/F1 and the confusion.

    Args:
        truth: true class per field.
        pred: predicted class per field.
        labels: class order (default: sorted union of both).
        min_support: classes with at least this many fields enter the macro-F1.
        support: fields per class that decide ``min_support`` (default: counted in
            ``truth``; pass the whole dataset's counts so every fold uses the same classes).
    """
    labels = list(labels) if labels is not None else sorted(set(truth) | set(pred))
    m = confusion(truth, pred, labels)
    n = int(m.sum())
    tp = np.diag(m).astype(np.float64)
    col, row = m.sum(axis=0), m.sum(axis=1)
    precision = np.divide(tp, col, out=np.zeros_like(tp), where=col > 0)
    recall = np.divide(tp, row, out=np.zeros_like(tp), where=row > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    counts = support if support is not None else dict(zip(labels, map(int, row), strict=True))
    scored = [c for c in labels if counts.get(c, 0) >= min_support]
    per = {
        c: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4), "support": int(row[i])}
        for i, c in enumerate(labels)
    }  # fmt: skip
    return {
        "fields": n,
        "oa": round(float(tp.sum() / n), 4) if n else float("nan"),
        "macro_f1": round(float(np.mean([per[c]["f1"] for c in scored])), 4)
        if scored
        else float("nan"),
        "macro_f1_classes": scored,
        "min_support": min_support,
        "per_class": per,
        "labels": labels,
        "confusion": m.tolist(),
    }


def format_scores(scores: dict[str, dict[str, Any]]) -> str:
    """Plain-text table: per-class P/R/F1 for each model side by side, then each model's
    confusion matrix (rows true, columns predicted)."""
    names = list(scores)
    labels = scores[names[0]]["labels"]
    width = max(8, *(len(c) for c in labels))
    lines = []
    head = f"{'':{width}}  " + "  ".join(f"{n[:20]:>20}" for n in names)
    lines.append(head)
    lines.append(f"{'OA':{width}}  " + "  ".join(f"{scores[n]['oa']:>20.3f}" for n in names))
    lines.append(
        f"{'macro-F1':{width}}  " + "  ".join(f"{scores[n]['macro_f1']:>20.3f}" for n in names)
    )
    lines.append("")
    prf = "  ".join(f"{'P    R    F1':>20}" for _ in names)
    lines.append(f"{'class':{width}} {'n':>5}  " + prf)
    for c in labels:
        sup = scores[names[0]]["per_class"][c]["support"]
        cells = []
        for n in names:
            p = scores[n]["per_class"][c]
            cells.append(f"{p['precision']:.2f} {p['recall']:.2f} {p['f1']:.2f}".rjust(20))
        mark = "" if c in scores[names[0]]["macro_f1_classes"] else " *"
        lines.append(f"{c:{width}} {sup:>5}  " + "  ".join(cells) + mark)
    lines.append(f"* not in macro-F1 (fewer than {scores[names[0]]['min_support']} fields)")
    for n in names:
        lines.append("")
        lines.append(f"confusion, {n} (rows true, columns predicted)")
        short = [c[:7] for c in labels]
        lines.append(f"{'':{width}} " + " ".join(f"{s:>7}" for s in short))
        for c, r in zip(labels, scores[n]["confusion"], strict=True):
            lines.append(f"{c:{width}} " + " ".join(f"{v:>7}" for v in r))
    return "\n".join(lines)
