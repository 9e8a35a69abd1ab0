"""Human-readable sizes, rates and durations."""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(n: float | None) -> str:
    """``1536`` → ``'1.5 KiB'``; None → ``'?'``."""
    if n is None:
        return "?"
    n = float(n)
    for unit in _UNITS:
        if abs(n) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(n)} B"
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} {_UNITS[-1]}"


def human_rate(bytes_per_second: float | None) -> str:
    """``89128960`` → ``'85.0 MiB/s'``."""
    if bytes_per_second is None:
        return "?"
    return human_bytes(bytes_per_second) + "/s"


def human_eta(seconds: float | None) -> str:
    """``75`` → ``'1:15'``, ``3725`` → ``'1:02:05'``; None → ``''``."""
    if seconds is None or seconds < 0 or seconds != seconds:
        return ""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


