"""Floating-point comparisons that hold on every x86-64 machine.

The same computation through differently shaped GEMMs (a padded batch against one sequence, a
sequence alone against a batch) or through another vector width (PyTorch's and OpenBLAS's AVX2
and AVX-512 kernels) rounds differently, so results agree to a few units of the dtype's rounding
relative to the size of the numbers involved, not to an absolute 1e-5 per element. Every check
here states its tolerance in units of the dtype's machine epsilon times a scale: the largest
magnitude of the expected values unless the caller names the magnitude the computation ran at.
"""

from __future__ import annotations

import numpy as np
import torch


def rounding_error(actual, expected, scale: float | None = None) -> tuple[float, float]:
    """The largest absolute difference and the scale it is measured against."""
    a = np.asarray(actual.detach() if isinstance(actual, torch.Tensor) else actual, dtype=np.float64)
    e = np.asarray(expected.detach() if isinstance(expected, torch.Tensor) else expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"shapes differ: {a.shape} and {e.shape}")
    if scale is None:
        scale = float(np.abs(e).max()) if e.size else 0.0
    return float(np.abs(a - e).max()) if e.size else 0.0, scale


def assert_within_rounding(actual, expected, dtype: torch.dtype, ulps: float, scale: float | None = None,
                           what: str = "values") -> None:
    """max |actual - expected| <= ulps * eps(dtype) * scale (scale: max |expected| by default)."""
    error, scale = rounding_error(actual, expected, scale)
    bound = ulps * torch.finfo(dtype).eps * scale
    if not error <= bound:
        raise AssertionError(f"{what}: max |difference| {error:.3e} exceeds {ulps} x eps({dtype}) x "
                             f"scale {scale:.3e} = {bound:.3e}")
