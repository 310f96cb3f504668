"""How long planning and drawing the timeline picture of a 50,000-event incident takes.

The incident is bench/postmortem.py's (a flapping alert group of hundreds of alerts, ticks,
status updates, a thousand-odd rollbacks, deploys while open). Measured from a post-mortem
already assembled: `plan_picture` (pure Python), then `draw_picture` (matplotlib, Agg, PNG).
The first draw, which loads fonts, is reported apart from the median of the runs after it.

Peak memory is tracemalloc's peak for one plan and draw (a separate run, as tracing slows
Python down; numpy's and Agg's own buffers are not all traced) and the process's maximum
resident set size (getrusage) at the end.

    python bench/postmortem_picture.py [--events 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta

from postmortem import OPENED, ZONE, build  # bench/postmortem.py: the same incident

from bot.domain.postmortem import assemble
from bot.render.picture import plan_picture
from bot.render.picture_png import draw_picture, picture_size


def main(count: int, runs: int) -> None:
    incident, events, changes = build(count)
    pm = assemble(incident, events, changes, now=OPENED + timedelta(days=1), display_zone=ZONE)
    print(f"incident with {len(events):,} timeline events")

    start = time.perf_counter()
    png = draw_picture(plan_picture(pm))
    print(f"first plan and draw (loads fonts): {(time.perf_counter() - start) * 1000:.0f} ms")

    plan_times, draw_times = [], []
    for _ in range(runs):
        start = time.perf_counter()
        plan = plan_picture(pm)
        middle = time.perf_counter()
        png = draw_picture(plan)
        plan_times.append(middle - start)
        draw_times.append(time.perf_counter() - middle)
    totals = [p + d for p, d in zip(plan_times, draw_times, strict=True)]
    width, height = picture_size(plan)
    print(
        f"plan {_ms(plan_times)}, draw {_ms(draw_times)}, total {_ms(totals)} "
        f"(median of {runs}; {width}×{height} px, {len(png) / 1024:.0f} KiB PNG)"
    )

    tracemalloc.start()
    draw_picture(plan_picture(pm))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory allocated while planning and drawing: {peak / 2**20:.0f} MiB")
    # Linux reports kilobytes, macOS bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mib = rss / 2**20 if sys.platform == "darwin" else rss / 2**10
    print(f"maximum resident set size of the process: {rss_mib:.0f} MiB")


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.0f} ms"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    main(args.events, args.runs)
