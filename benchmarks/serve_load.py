"""Load test of `lstm-sentiment serve` on a loopback port: throughput, p50/p99 latency and errors.

Scenarios: single reviews of typical length at concurrency 1, 8 and 32, and batches of 32 reviews at
concurrency 1 and 8. Each scenario is bounded in count and in time. The client runs on the same machine (and
cores) as the server, so the numbers are what one box does serving itself, client included.

    python benchmarks/serve_load.py [--model RUN_DIR] [--data aclImdb_v1.tar.gz] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tarfile
import time
from pathlib import Path

import httpx
import numpy as np

from lstm_sentiment.runtime import cpuinfo_line
from lstm_sentiment.serve.background import background_server

RESULTS = Path(__file__).parent / "results"


def typical_reviews(archive: Path | None, count: int = 2000, seed: int = 0) -> list[str]:
    """Real test-split reviews when the archive is at hand; otherwise 230-word stand-ins (the median review)."""
    if archive and archive.exists():
        reviews = []
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isfile() and "/test/" in member.name and member.name.endswith(".txt"):
                    reviews.append(tar.extractfile(member).read().decode("utf-8"))
                    if len(reviews) == count:
                        break
        return reviews
    rng = random.Random(seed)
    words = ["the", "film", "was", "a", "great", "story", "with", "some", "awful", "acting", "and", "brilliant",
             "music", "but", "the", "plot", "dragged"]
    return [" ".join(rng.choice(words) for _ in range(230)) for _ in range(count)]


async def scenario(url: str, reviews: list[str], batch: int, concurrency: int, requests: int,
                   max_seconds: float) -> dict:
    rng = random.Random(concurrency * 1000 + batch)
    latencies, errors, sent = [], 0, 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        for _ in range(min(20, requests)):  # warm-up: connections, allocator, first-call costs
            await client.post("/predict", json={"texts": rng.sample(reviews, batch)})
        start = time.perf_counter()
        deadline = start + max_seconds

        async def user() -> None:
            nonlocal errors, sent
            while sent < requests and time.perf_counter() < deadline:
                sent += 1
                body = {"texts": rng.sample(reviews, batch)}
                began = time.perf_counter()
                try:
                    response = await client.post("/predict", json=body)
                    ok = response.status_code == 200 and len(response.json()["predictions"]) == batch
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                errors += not ok

        await asyncio.gather(*(user() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    done = len(latencies)
    return {"texts_per_request": batch, "concurrency": concurrency, "requests": done, "errors": errors,
            "seconds": round(elapsed, 2), "requests_per_s": round(done / elapsed, 1),
            "reviews_per_s": round(done * batch / elapsed, 1),
            "p50_ms": round(1000 * float(np.percentile(latencies, 50)), 1),
            "p99_ms": round(1000 * float(np.percentile(latencies, 99)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--data", default="../shared/data/aclImdb_v1.tar.gz", help="aclImdb archive for real reviews")
    parser.add_argument("--requests", type=int, default=2000, help="requests per single-review scenario")
    parser.add_argument("--batch-requests", type=int, default=300, help="requests per batch scenario")
    parser.add_argument("--max-seconds", type=float, default=120, help="time limit per scenario")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--precision", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--out", type=Path, help="JSON file (default: results/serve_load-<workers>w-<precision>.json)")
    args = parser.parse_args()

    reviews = typical_reviews(Path(args.data))
    plan = [(1, c, args.requests) for c in (1, 8, 32)] + [(32, c, args.batch_requests) for c in (1, 8)]
    flags = ["--workers", str(args.workers), "--precision", args.precision]
    flags += ["--model", args.model] if args.model else []
    rows = []
    with background_server(*flags) as url:
        for batch, concurrency, requests in plan:
            rows.append(asyncio.run(scenario(url, reviews, batch, concurrency, requests, args.max_seconds)))
            print(json.dumps(rows[-1]), flush=True)
    words = [len(text.split()) for text in reviews]
    report = {"machine": f"{cpuinfo_line('model name') or 'unknown CPU'}", "server_workers": args.workers,
              "precision": args.precision,
              "model": args.model or "default", "median_review_words": int(np.median(words)), "scenarios": rows}
    out = args.out or RESULTS / f"serve_load-{args.workers}w-{args.precision}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("\n| texts/request | concurrency | requests | errors | requests/s | reviews/s | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['texts_per_request']} | {r['concurrency']} | {r['requests']} | {r['errors']} | "
              f"{r['requests_per_s']:,} | {r['reviews_per_s']:,} | {r['p50_ms']} | {r['p99_ms']} |")


if __name__ == "__main__":
    main()
