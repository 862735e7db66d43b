"""The load generator: a process of its own, so its CPU is not the server's, talking over loopback.

``python -m bench.loadgen PLAN.json`` reads a plan, runs it and prints one JSON object with the
figures (request count, errors by kind, throughput, latency percentiles, its own CPU time). Every
run is bounded twice: by a request (or flow) count and by a hard time limit, after which the
remaining virtual users are cancelled and counted as unfinished.

Scenarios (the plan's ``scenario``):

``requests``  a fixed number of virtual users, each with its own keep-alive connection (one
              browser per user), cycling through its own list of requests until the shared
              request budget is spent. ``pace_s`` null means closed loop (the next request as soon
              as the answer is in: the saturation throughput); a number means each user starts
              one request every ``pace_s`` seconds, first one at a random offset (an open
              arrival pattern, for latency at a given load).
``entrant``   the deadline-rush flow of one entrant with an API token, per virtual user:
              create company, create entry, announce attachment, PUT the bytes to the presigned
              URL, complete, wait until the worker has verified it, submit.
``boto3``     the upload baseline: ``put_object`` of the same bytes, same concurrency, straight
              to the store with one boto3 client (threads, as boto3 is synchronous).
``smtp``      the mail baseline: raw ``aiosmtplib.send`` of prepared messages, one connection per
              message (as the platform's sender does), same concurrency, to the same server.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import ssl
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

Plan = dict[str, Any]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def latency_figures(latencies_s: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_s)
    ms = [x * 1000 for x in ordered]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(ms[-1], 2) if ms else 0.0,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else 0.0,
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Recorder:
    """Latencies of successful requests and errors by kind, per step name."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: Counter[str] = Counter()
        self.first_start: float | None = None
        self.last_end: float = 0.0

    def ok(self, step: str, started: float) -> None:
        now = time.perf_counter()
        self.latencies.setdefault(step, []).append(now - started)
        self._span(started, now)

    def error(self, step: str, kind: str, started: float) -> None:
        self.errors[f"{step}: {kind}"] += 1
        self._span(started, time.perf_counter())

    def _span(self, started: float, ended: float) -> None:
        if self.first_start is None or started < self.first_start:
            self.first_start = started
        self.last_end = max(self.last_end, ended)

    @property
    def wall(self) -> float:
        return self.last_end - self.first_start if self.first_start is not None else 0.0


Worker = Callable[[], Coroutine[Any, Any, None]]


async def bounded(workers: list[Worker], time_limit_s: float) -> tuple[bool, int]:
    """Run the workers; cancel whatever still runs at the time limit. (timed out, cancelled)."""
    tasks = [asyncio.create_task(w()) for w in workers]
    done, pending = await asyncio.wait(tasks, timeout=time_limit_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        error = task.exception()
        if error is not None:
            raise error  # a bug in the generator: surface it
    return bool(pending), len(pending)


def _client(
    ssl_context: ssl.SSLContext, *, base_url: str = "", timeout: float
) -> httpx.AsyncClient:
    # One shared SSL context: httpx builds a new one per client otherwise (~30 ms each).
    return httpx.AsyncClient(
        base_url=base_url,
        verify=ssl_context,
        timeout=timeout,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


# --- scenario "requests" -----------------------------------------------------------------------


async def run_requests(plan: Plan) -> dict[str, Any]:
    users: list[dict[str, Any]] = plan["users"]
    budget = int(plan["total_requests"])
    pace: float | None = plan.get("pace_s")
    timeout = float(plan.get("timeout_s", 30))
    expected = set(plan.get("expect_status", [200, 201]))
    rng = random.Random(plan.get("seed", 1))
    ssl_context = ssl.create_default_context()
    recorder = Recorder()
    issued = 0
    clients = [_client(ssl_context, base_url=plan["base_url"], timeout=timeout) for _ in users]

    def ticket() -> bool:
        nonlocal issued
        if issued >= budget:
            return False
        issued += 1
        return True

    def worker(index: int) -> Worker:
        user = users[index]
        client = clients[index]
        headers = user.get("headers", {})
        requests = user["requests"]

        async def go() -> None:
            i = 0
            next_start = time.perf_counter() + (rng.uniform(0, pace) if pace else 0.0)
            while True:
                if pace:
                    delay = next_start - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_start += pace
                if not ticket():
                    return
                spec = requests[i % len(requests)]
                i += 1
                started = time.perf_counter()
                try:
                    response = await client.request(
                        spec["method"], spec["path"], json=spec.get("json"), headers=headers
                    )
                except httpx.HTTPError as exc:
                    recorder.error("request", type(exc).__name__, started)
                    continue
                if response.status_code in expected:
                    recorder.ok("request", started)
                else:
                    recorder.error("request", f"HTTP {response.status_code}", started)

        return go

    cpu = cpu_seconds()
    try:
        timed_out, cancelled = await bounded(
            [worker(i) for i in range(len(users))], float(plan["time_limit_s"])
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
    latencies = recorder.latencies.get("request", [])
    errors = sum(recorder.errors.values())
    return {
        "scenario": "requests",
        "users": len(users),
        "pace_s": pace,
        "requests": len(latencies) + errors,
        "ok": len(latencies),
        "errors": errors,
        "error_kinds": dict(recorder.errors),
        "timed_out": timed_out,
        "unfinished_users": cancelled,
        "wall_s": round(recorder.wall, 3),
        "throughput_rps": round(len(latencies) / recorder.wall, 1) if recorder.wall else 0.0,
        **latency_figures(latencies),
        "loadgen_cpu_s": round(cpu_seconds() - cpu, 2),
    }


# --- scenario "entrant" ------------------------------------------------------------------------


class FlowError(Exception):
    def __init__(self, step: str, kind: str) -> None:
        super().__init__(f"{step}: {kind}")
        self.step = step
        self.kind = kind


def file_bytes(size: int) -> bytes:
    """A PDF by its magic bytes (what the verification sniffs), padded to `size` bytes."""
    head = b"%PDF-1.7\n% benchmark upload\n"
    tail = b"\n%%EOF\n"
    filler = random.Random(size).randbytes(4096)
    body_len = size - len(head) - len(tail)
    body = (filler * (body_len // len(filler) + 1))[:body_len]
    return head + body + tail


class EntrantFlow:
    """One entrant's submission over HTTP, each step timed and checked."""

    def __init__(self, plan: Plan, recorder: Recorder) -> None:
        self.recorder = recorder
        self.size = int(plan["file_size"])
        self.data = file_bytes(self.size)
        self.competition_id = plan["competition_id"]
        self.poll_interval = float(plan.get("poll_interval_s", 0.25))
        self.verify_timeout = float(plan.get("verify_timeout_s", 120))

    async def call(
        self,
        client: httpx.AsyncClient,
        step: str,
        method: str,
        url: str,
        *,
        expect: int,
        **kwargs: Any,
    ) -> Any:
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.error(step, type(exc).__name__, started)
            raise FlowError(step, type(exc).__name__) from exc
        if response.status_code != expect:
            self.recorder.error(step, f"HTTP {response.status_code}", started)
            raise FlowError(step, f"HTTP {response.status_code}: {response.text[:200]}")
        self.recorder.ok(step, started)
        return response.json() if response.content else None

    async def run(
        self, api: httpx.AsyncClient, store: httpx.AsyncClient, n: int, token: str
    ) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        company = await self.call(
            api,
            "create company",
            "POST",
            "/api/v1/companies",
            expect=201,
            headers=auth,
            json={
                "name": f"Benchmark Zulieferer {n} GmbH",
                "street": "Industriestraße 1",
                "postal_code": "08056",
                "city": "Zwickau",
                "district": "zwickau",
                "employees": 50 + n % 400,
            },
        )
        entry = await self.call(
            api,
            "create entry",
            "POST",
            f"/api/v1/competitions/{self.competition_id}/entries",
            expect=201,
            headers=auth,
            json={
                "company_id": company["id"],
                "category": "energie",
                "title": f"Abwärme im Werk {n}",
                "summary": "Kurzfassung des Beitrags.",
                "description": "Beschreibung des Beitrags.",
            },
        )
        upload_started = time.perf_counter()
        announced = await self.call(
            api,
            "announce attachment",
            "POST",
            f"/api/v1/entries/{entry['id']}/attachments",
            expect=201,
            headers=auth,
            json={
                "filename": f"Beitrag {n}.pdf",
                "content_type": "application/pdf",
                "size_bytes": self.size,
            },
        )
        upload = announced["upload"]
        await self.call(
            store,
            "PUT to store",
            "PUT",
            upload["url"],
            expect=200,
            content=self.data,
            headers=upload["headers"],
        )
        attachment = f"/api/v1/attachments/{announced['id']}"
        await self.call(api, "complete", "POST", f"{attachment}/complete", expect=200, headers=auth)
        self.recorder.ok("upload path", upload_started)  # announce + PUT + complete
        await self.wait_verified(api, attachment, auth)
        await self.call(
            api, "submit", "POST", f"/api/v1/entries/{entry['id']}/submit", expect=200, headers=auth
        )

    async def wait_verified(
        self, api: httpx.AsyncClient, attachment: str, auth: dict[str, str]
    ) -> None:
        waited = time.perf_counter()
        while True:
            status = await self.call(
                api, "poll status", "GET", attachment, expect=200, headers=auth
            )
            if status["status"] == "verified":
                self.recorder.ok("wait verified", waited)
                return
            if status["status"] != "uploaded" or time.perf_counter() - waited > self.verify_timeout:
                self.recorder.error("wait verified", status["status"], waited)
                raise FlowError("wait verified", status["status"])
            await asyncio.sleep(self.poll_interval)


async def run_entrants(plan: Plan) -> dict[str, Any]:
    entrants: list[dict[str, Any]] = plan["entrants"]
    concurrency = int(plan["concurrency"])
    timeout = float(plan.get("timeout_s", 60))
    ssl_context = ssl.create_default_context()
    recorder = Recorder()
    flow = EntrantFlow(plan, recorder)
    flow_latencies: list[float] = []
    queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
    for item in enumerate(entrants):
        queue.put_nowait(item)

    async def worker() -> None:
        async with (
            _client(ssl_context, base_url=plan["base_url"], timeout=timeout) as api,
            _client(ssl_context, timeout=timeout) as store,
        ):
            while not queue.empty():
                n, entrant = queue.get_nowait()
                started = time.perf_counter()
                try:
                    await flow.run(api, store, n, entrant["token"])
                except FlowError:
                    continue
                flow_latencies.append(time.perf_counter() - started)

    cpu = cpu_seconds()
    timed_out, cancelled = await bounded(
        [worker for _ in range(concurrency)], float(plan["time_limit_s"])
    )
    puts = recorder.latencies.get("PUT to store", [])
    flows_ok = len(flow_latencies)
    return {
        "scenario": "entrant",
        "concurrency": concurrency,
        "file_size": flow.size,
        "entrants": len(entrants),
        "flows_ok": flows_ok,
        "flows_failed": len(entrants) - flows_ok,
        "errors": sum(recorder.errors.values()),
        "error_kinds": dict(recorder.errors),
        "timed_out": timed_out,
        "unfinished_users": cancelled,
        "wall_s": round(recorder.wall, 3),
        "flows_per_s": round(flows_ok / recorder.wall, 2) if recorder.wall else 0.0,
        "flow": latency_figures(flow_latencies),
        "steps": {
            step: {"count": len(values), **latency_figures(values)}
            for step, values in recorder.latencies.items()
        },
        # Upload rate of one client while uploading, comparable with the boto3 baseline.
        "put_mib_per_s_per_client": round(len(puts) * flow.size / 2**20 / sum(puts), 1)
        if puts
        else 0,
        "loadgen_cpu_s": round(cpu_seconds() - cpu, 2),
    }


# --- scenario "boto3" --------------------------------------------------------------------------


async def run_boto3(plan: Plan) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    concurrency = int(plan["concurrency"])
    count = int(plan["count"])
    size = int(plan["file_size"])
    data = file_bytes(size)
    # The platform's client settings (path style, checksums only when required).
    client = boto3.client(
        "s3",
        endpoint_url=plan["endpoint"],
        aws_access_key_id=plan["access_key"],
        aws_secret_access_key=plan["secret_key"],
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=concurrency,
        ),
    )
    recorder = Recorder()
    remaining = list(range(count))
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=concurrency)

    def put(n: int) -> None:
        client.put_object(
            Bucket=plan["bucket"],
            Key=f"baseline/{plan.get('prefix', 'run')}/{n}",
            Body=data,
            ContentType="application/pdf",
        )

    def worker() -> Worker:
        async def go() -> None:
            while remaining:
                n = remaining.pop()
                started = time.perf_counter()
                try:
                    await loop.run_in_executor(pool, put, n)
                except Exception as exc:  # botocore raises many unrelated types
                    recorder.error("put_object", type(exc).__name__, started)
                    continue
                recorder.ok("put_object", started)

        return go

    cpu = cpu_seconds()
    try:
        timed_out, _ = await bounded(
            [worker() for _ in range(concurrency)], float(plan["time_limit_s"])
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    latencies = recorder.latencies.get("put_object", [])
    return {
        "scenario": "boto3",
        "concurrency": concurrency,
        "file_size": size,
        "count": count,
        "ok": len(latencies),
        "errors": sum(recorder.errors.values()),
        "error_kinds": dict(recorder.errors),
        "timed_out": timed_out,
        "wall_s": round(recorder.wall, 3),
        "puts_per_s": round(len(latencies) / recorder.wall, 1) if recorder.wall else 0.0,
        "put_mib_per_s_per_client": round(len(latencies) * size / 2**20 / sum(latencies), 1)
        if latencies
        else 0,
        **latency_figures(latencies),
        "loadgen_cpu_s": round(cpu_seconds() - cpu, 2),
    }


# --- scenario "smtp" ---------------------------------------------------------------------------


async def run_smtp(plan: Plan) -> dict[str, Any]:
    import aiosmtplib

    concurrency = int(plan["concurrency"])
    count = int(plan["count"])
    recorder = Recorder()
    remaining = list(range(count))
    remaining.reverse()

    def message(n: int) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = plan["mail_from"]
        msg["To"] = f"baseline{n:05d}@region.example"
        msg["Subject"] = plan["subject"]
        msg["Message-ID"] = make_msgid(domain="baseline.example")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(plan["text"])
        msg.add_alternative(plan["html"], subtype="html")
        return msg

    def worker() -> Worker:
        async def go() -> None:
            while remaining:
                n = remaining.pop()
                started = time.perf_counter()
                try:
                    await aiosmtplib.send(
                        message(n), hostname=plan["host"], port=int(plan["port"]), timeout=30
                    )
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    recorder.error("send", type(exc).__name__, started)
                    continue
                recorder.ok("send", started)

        return go

    cpu = cpu_seconds()
    timed_out, _ = await bounded(
        [worker() for _ in range(concurrency)], float(plan["time_limit_s"])
    )
    latencies = recorder.latencies.get("send", [])
    return {
        "scenario": "smtp",
        "concurrency": concurrency,
        "count": count,
        "ok": len(latencies),
        "errors": sum(recorder.errors.values()),
        "error_kinds": dict(recorder.errors),
        "timed_out": timed_out,
        "wall_s": round(recorder.wall, 3),
        "mails_per_s": round(len(latencies) / recorder.wall, 1) if recorder.wall else 0.0,
        **latency_figures(latencies),
        "loadgen_cpu_s": round(cpu_seconds() - cpu, 2),
    }


SCENARIOS: dict[str, Callable[[Plan], Coroutine[Any, Any, dict[str, Any]]]] = {
    "requests": run_requests,
    "entrant": run_entrants,
    "boto3": run_boto3,
    "smtp": run_smtp,
}


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.loadgen PLAN.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        plan: Plan = json.load(f)
    result = asyncio.run(SCENARIOS[plan["scenario"]](plan))
    print(json.dumps(result, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    main()
