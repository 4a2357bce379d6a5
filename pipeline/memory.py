"""The process's memory: its high-water mark (reported per stage in the manifest) and handing freed memory back."""

from __future__ import annotations

import sys


def release_memory() -> None:
    """Hand the memory a finished stage freed back to the system (glibc keeps freed heap pages otherwise), so
    the next stage starts from what is really in use."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # the C library the process already has loaded
    except (OSError, AttributeError, TypeError):  # not glibc: nothing to hand back this way
        pass


def peak_rss_mb(children: bool = False) -> float:
    """The process's memory high-water mark so far (resident set, MB); with `children`, that of its largest
    finished child process (reading workers, converters)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
