"""The benchmark workloads and the side-by-side comparison with the NumPy reference and peers.

Shared by the asv suite in ``benchmarks/`` and by ``fastbp bench``.
"""
