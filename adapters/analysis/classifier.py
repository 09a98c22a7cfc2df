"""The kind of a document from its text: TF-IDF over character n-grams of words (3 to 5
letters, so OCR's merged or broken words still share most of their grams), one centroid per
kind learned from the labelled examples in ``examples.json``, cosine similarity, softmax.

Pure Python and small: it learns in milliseconds at the first use and needs no model file.
(A sentence-embedding model such as all-MiniLM-L6-v2 ships in no wheel, so it would be a
download at run time, which this service never makes.) ``bench/analysis.py`` measures it.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).with_name("examples.json")
SHARPNESS = 12.0
"""Softmax temperature on cosine similarities: how sure a clear winner looks."""


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


def grams(text: str, low: int = 3, high: int = 5) -> Counter[str]:
    counts: Counter[str] = Counter()
    for word in normalise(text).split():
        if word.isdigit():
            continue
        padded = f" {word} "
        for n in range(low, high + 1):
            for i in range(max(1, len(padded) - n + 1)):
                counts[padded[i : i + n]] += 1
    return counts


@dataclass(frozen=True)
class Prediction:
    kind: str
    confidence: float
    scores: Mapping[str, float]


class KindClassifier:
    def __init__(self, labelled: Mapping[str, Sequence[str]]) -> None:
        documents = [(kind, grams(text)) for kind, texts in labelled.items() for text in texts]
        frequency: Counter[str] = Counter()
        for _, counts in documents:
            frequency.update(counts.keys())
        total = len(documents)
        self.idf = {g: math.log((1 + total) / (1 + df)) + 1.0 for g, df in frequency.items()}
        centroids: dict[str, dict[str, float]] = {}
        for kind, counts in documents:
            centroid = centroids.setdefault(kind, {})
            for g, w in self._vector(counts).items():
                centroid[g] = centroid.get(g, 0.0) + w
        self.centroids = {kind: _unit(c) for kind, c in centroids.items()}

    @classmethod
    def from_examples(cls, path: Path = EXAMPLES) -> KindClassifier:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({kind: texts for kind, texts in data.items() if not kind.startswith("_")})

    def _vector(self, counts: Mapping[str, int]) -> dict[str, float]:
        weights = {g: (1 + math.log(n)) * self.idf[g] for g, n in counts.items() if g in self.idf}
        return _unit(weights)

    def predict(self, text: str) -> Prediction | None:
        """None for a text with nothing the examples know."""
        vector = self._vector(grams(text))
        if not vector:
            return None
        scores = {kind: _dot(vector, centroid) for kind, centroid in self.centroids.items()}
        top = max(scores.values())
        exp = {kind: math.exp(SHARPNESS * (s - top)) for kind, s in scores.items()}
        total = sum(exp.values())
        kind = max(scores, key=lambda k: scores[k])
        return Prediction(kind, exp[kind] / total, scores)


def _unit(weights: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {g: w / norm for g, w in weights.items()} if norm else {}


def _dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    small, large = (a, b) if len(a) < len(b) else (b, a)
    return sum(w * large.get(g, 0.0) for g, w in small.items())
