"""The embedded analyzer on a rendered, labelled set: accuracy per kind, field precision and
recall, time per page.

    python -m bench.analysis [--per-kind 12] [--seed 7]

Renders the set with ``bench/analysis_dataset.py`` (templates apart from the classifier's
examples) into a temporary folder, reads each file as a worker does
(``EmbeddedAnalyzer.analyze_now``: pypdf or OCR, the classifier, the field rules) and prints:

- accuracy per kind (predicted kind = labelled kind) and overall, and per form;
- for each field, precision (of the values read, how many are right) and recall (of the
  values there are, how many were read right): dates as ISO days, names case-insensitive;
- seconds per page, median and maximum, per form (the first file pays the OCR engine's load,
  reported apart).

``tests/integration/test_analysis_accuracy.py`` asserts a small sample stays above the
figures in BENCHMARKS.md minus a margin.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from adapters.analysis.embedded import EmbeddedAnalyzer
from bench.analysis_dataset import FORMS, KINDS, Sample, generate
from domains.document.analysis import AnalyzerResult, ExtractedFieldName

FIELDS = {
    "expiry": ExtractedFieldName.EXPIRY_DATE,
    "name": ExtractedFieldName.PERSON_NAME,
    "number": ExtractedFieldName.DOCUMENT_NUMBER,
}


@dataclass
class Score:
    kinds: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    forms: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    read: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    there: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    first_seconds: float = 0.0

    def add(self, sample: Sample, result: AnalyzerResult, seconds: float) -> None:
        correct = result.kind is not None and result.kind.value == sample.kind
        self.kinds[sample.kind].append(correct)
        self.forms[sample.form].append(correct)
        self.seconds[sample.form].append(seconds / max(1, result.pages))
        for label, name in FIELDS.items():
            expected = getattr(sample, label)
            found = next((f.value for f in result.fields if f.name is name), None)
            if expected is not None:
                self.there[label] += 1
            if found is not None and (expected is not None or label != "number"):
                # a number read from a document without one (an invoice's reference) is no error
                self.read[label] += 1
                if expected is not None and _same(found, expected):
                    self.right[label] += 1

    def accuracy(self, kind: str | None = None) -> float:
        values = self.kinds[kind] if kind else [v for vs in self.kinds.values() for v in vs]
        return sum(values) / len(values) if values else 0.0

    def precision(self, label: str) -> float:
        return self.right[label] / self.read[label] if self.read[label] else 0.0

    def recall(self, label: str) -> float:
        return self.right[label] / self.there[label] if self.there[label] else 0.0


def _same(found: str, expected: str) -> bool:
    """Case and spaces aside (OCR drops the spaces of tightly set lines)."""
    return found.casefold().replace(" ", "") == expected.casefold().replace(" ", "")


def score(samples: list[Sample], folder: Path, analyzer: EmbeddedAnalyzer | None = None) -> Score:
    analyzer = analyzer or EmbeddedAnalyzer()
    result = Score()
    for i, sample in enumerate(samples):
        content = (folder / sample.file).read_bytes()
        started = time.perf_counter()
        read = analyzer.analyze_now(content, sample.content_type)
        elapsed = time.perf_counter() - started
        if i == 0:
            result.first_seconds = elapsed
        result.add(sample, read, elapsed)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kind", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        samples = generate(folder, args.per_kind, args.seed, date.today())
        result = score(samples, folder)
    print(f"{len(samples)} documents, {args.per_kind} per kind, seed {args.seed}")
    print("accuracy per kind:")
    for kind in KINDS:
        print(f"  {kind:<12} {result.accuracy(kind):6.1%}  ({sum(result.kinds[kind])}/{len(result.kinds[kind])})")
    print(f"  {'all':<12} {result.accuracy():6.1%}")
    print("accuracy per form:")
    for form in FORMS:
        values = result.forms[form]
        print(f"  {form:<12} {sum(values) / len(values):6.1%}")
    print("fields:            precision  recall")
    for label in FIELDS:
        print(f"  {label:<16} {result.precision(label):9.1%}  {result.recall(label):6.1%}")
    print("seconds per page:  median   max")
    for form in FORMS:
        times = result.seconds[form]
        print(f"  {form:<16} {statistics.median(times):6.3f} {max(times):6.3f}")
    print(f"  (the first file, which loads the OCR engine: {result.first_seconds:.2f} s)")


if __name__ == "__main__":
    main()
