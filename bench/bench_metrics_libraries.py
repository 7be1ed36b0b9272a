"""Which Prometheus library to use: prometheus-client or the OpenTelemetry SDK with its Prometheus
exporter, measured on what the request path does per request (one labelled counter increment and
one labelled histogram observation) and on one scrape, in one run with alternating blocks.

    .venv/bin/python -m bench.bench_metrics_libraries
"""

from __future__ import annotations

import time
from collections.abc import Callable

BLOCKS, PER_BLOCK = 6, 20_000


def prometheus_client_record() -> tuple[Callable[[], None], Callable[[], bytes]]:
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    registry = CollectorRegistry()
    requests = Counter("requests", "r", ["outcome", "reason"], registry=registry)
    seconds = Histogram("verification_seconds", "v", ["verifier"], registry=registry)

    def record() -> None:
        requests.labels("accept", "ok").inc()
        seconds.labels("jwt").observe(0.0004)

    return record, lambda: generate_latest(registry)


def opentelemetry_record() -> tuple[Callable[[], None], Callable[[], bytes]]:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    reader = PrometheusMetricReader()
    registry.register(reader._collector)  # the reader registers in the default registry; ours is cleaner
    meter = MeterProvider(metric_readers=[reader]).get_meter("bench")
    requests = meter.create_counter("requests")
    seconds = meter.create_histogram("verification", unit="s")
    accept, jwt = {"outcome": "accept", "reason": "ok"}, {"verifier": "jwt"}

    def record() -> None:
        requests.add(1, accept)
        seconds.record(0.0004, jwt)

    return record, lambda: generate_latest(registry)


def main() -> None:
    candidates = {"prometheus-client": prometheus_client_record(), "opentelemetry-sdk": opentelemetry_record()}
    per_op: dict[str, list[float]] = {name: [] for name in candidates}
    per_scrape: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(BLOCKS):
        for name, (record, scrape) in candidates.items():
            started = time.process_time()
            for _ in range(PER_BLOCK):
                record()
            per_op[name].append((time.process_time() - started) / PER_BLOCK)
            started = time.process_time()
            for _ in range(50):
                scrape()
            per_scrape[name].append((time.process_time() - started) / 50)
    for name in candidates:
        op, scrape = sorted(per_op[name])[BLOCKS // 2], sorted(per_scrape[name])[BLOCKS // 2]
        print(f"{name:20s} per request {op * 1e6:6.2f} us   per scrape {scrape * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
