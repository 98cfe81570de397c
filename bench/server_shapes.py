"""Gunicorn's shape (worker processes × threads each) for opening cases, measured.

    python -m bench.server_shapes                        # bench_small, the shapes below
    python -m bench.server_shapes --shapes 2x2,4x2 --requests 500

Each shape serves ``bench.run``'s opening benchmark (16 clients, ``requests`` opens after 200 to
warm up) in a server of its own; the floor (the same SQL through psycopg) is measured once, at the
end, on the same dataset. The dataset must exist (``python -m bench.run --quick --only open``).
"""

from __future__ import annotations

import argparse
import json

from bench.run import _open_floor, bench_open, fresh_orders

SHAPES = "1x4,2x1,2x2,2x4,3x2,4x1,4x2,4x4"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dataset", default="bench_small")
    parser.add_argument("--shapes", default=SHAPES)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    rows = []
    for shape in args.shapes.split(","):
        workers, threads = (int(part) for part in shape.split("x"))
        result = bench_open(
            args.dataset,
            requests=args.requests,
            concurrency=args.concurrency,
            workers=workers,
            threads=threads,
            floor=False,
        )
        product = result["product"]
        rows.append((shape, product, result["failures"]))
        print(
            f"{shape:>5}  {product['requests_per_second']:>7} req/s  p50 {product['p50_ms']} ms"
            f"  p99 {product['p99_ms']} ms  failures {result['failures']}",
            flush=True,
        )
    floor = _open_floor(args.dataset, fresh_orders(args.dataset, args.requests), args.concurrency)
    print(
        f"floor  {floor['requests_per_second']:>7} tx/s   p50 {floor['p50_ms']} ms"
        f"  p99 {floor['p99_ms']} ms"
    )
    print(json.dumps({"shapes": {s: p for s, p, _ in rows}, "floor": floor}))


if __name__ == "__main__":
    main()
