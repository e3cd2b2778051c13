"""Performance case: the candidate's aggregator timed against the reference's.

Both solutions run alternately over growing logs (see the grader's ``bench`` fixture);
the score follows the ratio of their times at the largest size. The log has many
distinct paths, so counting them in a way that is quadratic in the log's length
shows plainly.
"""

import time

from logagg import aggregate

BASE = 1709647200  # 2024-03-05T14:00:00Z
METHODS = ("GET", "GET", "GET", "POST", "PUT", "DELETE")


def log_of(n):
    """A log of ``n`` lines: many distinct paths (ids), a few malformed lines."""
    lines = []
    for i in range(n):
        if i % 97 == 0:
            lines.append("this line is garbage")
            continue
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(BASE + i))
        path = f"/api/items/{(i * 7919) % (n // 16 + 1)}?page={i % 5}"
        lines.append(f"{stamp} {METHODS[i % 6]} {path} {200 + (i % 4) * 100} {i % 251}.{i % 10}")
    return lines


def test_aggregate_scales_with_the_log(bench):
    bench(aggregate, make_args=lambda n: (log_of(n),), sizes=[500, 1_000, 2_000, 4_000])

