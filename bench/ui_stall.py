"""The longest gap between 10 ms ``after()`` heartbeats while work runs.

Used by every tab's benchmark: ``StallMeter(root)`` records how long the Tk loop
was unable to run a heartbeat, and ``run_until(root, condition)`` runs the loop
while measuring. Run on its own, it measures the task runner, a transcript and a
progress row while four workers report like busy transfers.

    python -m bench.ui_stall           # prints ui_stall_max_ms: … lines
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class StallMeter:
    """Schedules a heartbeat every ``interval_ms`` and records the longest gap."""

    def __init__(self, root, interval_ms: int = 10):
        self.root = root
        self.interval = interval_ms / 1000
        self.interval_ms = interval_ms
        self.gaps: list[float] = []
        self._last = None
        self._after = None

    def start(self) -> "StallMeter":
        self._last = time.perf_counter()
        self._after = self.root.after(self.interval_ms, self._beat)
        return self

    def _beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now
        self._after = self.root.after(self.interval_ms, self._beat)

    def stop(self) -> None:
        if self._after is not None:
            self.root.after_cancel(self._after)
            self._after = None

    @property
    def longest_ms(self) -> float:
        """The longest gap beyond the heartbeat interval itself, in ms."""
        return max(0.0, (max(self.gaps) - self.interval) * 1000) if self.gaps else 0.0


def run_until(root, until: Callable[[], bool], timeout: float = 600.0) -> StallMeter:
    """Run the Tk loop until ``until()`` is true, measuring stalls meanwhile."""
    meter = StallMeter(root).start()
    deadline = time.monotonic() + timeout

    def check():
        if until() or time.monotonic() > deadline:
            root.quit()
        else:
            root.after(20, check)

    root.after(20, check)
    root.mainloop()
    meter.stop()
    return meter


def _flood_once(seconds: float) -> float:
    import tkinter as tk

    from netgui.ui.progress import ProgressRow
    from netgui.ui.tasks import TaskRunner
    from netgui.ui.transcript import TranscriptPane

    root = tk.Tk()
    transcript = TranscriptPane(root)
    transcript.pack(fill="both", expand=True)
    row = ProgressRow(root, "flood")
    row.pack(fill="x")
    runner = TaskRunner(root)

    def transfer(ctx, n):
        # Like a real transfer: wait for the network (1 ms), report a 64 KiB chunk,
        # and write a transcript line every few chunks (about 1,000 lines/s in all).
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            time.sleep(0.001)
            i += 1
            ctx.progress(i * 65536, None)
            if i % 4 == 0:
                ctx.log("<", f"worker {n} chunk {i}")
        return i

    tasks = [runner.submit(transfer, n, on_progress=row.update_progress, on_log=transcript.append)
             for n in range(4)]
    meter = run_until(root, lambda: not any(t.running for t in tasks))
    runner.shutdown()
    root.destroy()
    tasks.clear()
    del transcript, row, runner, root
    gc.collect()  # free the Tk cycle here: a worker thread of the next run must not do it
    return meter.longest_ms


def main() -> None:
    quick = "--quick" in sys.argv
    runs = [_flood_once(1.0 if quick else 3.0) for _ in range(3 if quick else 5)]
    print(f"ui_stall_runs_ms: {', '.join(f'{r:.1f}' for r in runs)}")
    print(f"ui_stall_max_ms: {statistics.median(runs):.1f}")


if __name__ == "__main__":
    main()
