"""Document analyzers behind ``domains.document.analysis.DocumentAnalyzer``: the embedded one
(offline: pypdf, rapidocr-onnxruntime, a kind classifier learned from ``examples.json``).
Imported by workers only; the heavy libraries load on the first file read."""
