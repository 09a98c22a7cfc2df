"""The embedded analyzer's accuracy stays near what BENCHMARKS.md reports (``python -m
bench.analysis``: 60 rendered documents, every kind 100 %, expiry 100 % precision and 96 %
recall, names 97 % and 75 %, numbers 100 % and 100 %), on a small sample of the same renderer
(another seed, one document of every kind, every form among them: 5 documents, 3 of them
read by OCR) so that the suite stays fast: the figures must stay above the measured ones minus
a margin for the sample's size (one misreading in five is noise, two are a regression)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bench.analysis import score
from bench.analysis_dataset import FORMS, KINDS, generate

MARGIN = 0.21


def test_a_small_rendered_sample_scores_near_the_benchmark(tmp_path: Path) -> None:
    samples = generate(tmp_path, 1, seed=11, today=date(2026, 6, 1), stagger=True)
    assert {s.kind for s in samples} == set(KINDS) and {s.form for s in samples} == set(FORMS)
    result = score(samples, tmp_path)
    assert result.accuracy() >= 1.0 - MARGIN, dict(result.kinds)
    assert result.precision("expiry") >= 1.0 - MARGIN and result.recall("expiry") >= 0.96 - MARGIN * 2.5
    assert result.precision("number") >= 1.0 - MARGIN and result.recall("number") >= 1.0 - MARGIN * 2.5
    assert result.precision("name") >= 0.97 - MARGIN * 2 and result.recall("name") >= 0.75 - MARGIN * 2.5
    assert max(result.seconds["pdf-text"]) < 2.0  # a text layer needs no OCR
