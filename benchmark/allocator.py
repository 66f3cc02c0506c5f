"""Keep freed memory in the process on glibc.

A training step allocates and frees the same few-megabyte temporaries every time.  By default glibc serves them
with mmap or trims them from the heap on free, so every step page-faults them back in, which costs 10-20 % of a
stacked gmm update on a 2-core CPU (python -m benchmark.perf).  Raising the mmap and trim thresholds keeps them.
"""
from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> bool:
    """Raise glibc's mmap threshold to its maximum (32 MiB) and its trim threshold to 1 GiB; False if not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):
        return False
