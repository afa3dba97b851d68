#!/usr/bin/env python3
"""Measure bench/fake_aws.py's own ceiling (requests/s) with a raw-socket asyncio load generator.

Starts the fake as a subprocess on loopback (or uses --url), opens C keep-alive connections and
sends a bounded number of pre-built, correctly-signed-looking requests in the plugin's operation
mix (KMS DescribeKey/GetKeyPolicy/ListGrants/GetKeyRotationStatus/ListResourceTags/
ListKeyRotations, S3 GetBucket*), one outstanding request per connection like botocore (or
--pipeline N). Every response is read in full and its status checked.

Two figures per run:
- measured req/s: what this generator got through. The generator shares the 2 cores with the fake,
  so this is a lower bound of the fake's capacity.
- server CPU per request (from the fake's /__stats cpu_s): 1/that is the ceiling of the fake on one
  core when nothing else competes.

Usage: python bench/load_fake.py [--requests 100000] [--connections 64] [--latency-ms 0,30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_aws  # noqa: E402


def build_requests(world: fake_aws.World, host: str, count: int = 2000) -> list[bytes]:
    """Raw HTTP requests in the plugin's per-resource mix (no list calls: those are few per sync)."""
    acct = world.accounts[0]
    region = world.regions[0]
    akid = f"ASIA{acct}LOAD"
    keys, _ = world.keys(acct, region)
    buckets = [b for b in world.buckets(acct)]
    kms_ops = ["DescribeKey", "GetKeyPolicy", "ListGrants", "GetKeyRotationStatus", "ListResourceTags",
               "ListKeyRotations"]
    s3_ops = ["policyStatus", "tagging", "encryption", "policy", "publicAccessBlock", "ownershipControls"]
    out = []
    sym = [k for k in keys if k.symmetric]
    for i in range(count):
        date = "20260101T000000Z"
        if i % 12 < 6:
            op = kms_ops[i % 6]
            k = sym[(i // 12) % len(sym)]
            params: dict = {"KeyId": k.arn}
            if op == "GetKeyPolicy":
                params["PolicyName"] = "default"
            elif op.startswith("List"):
                params["Limit"] = 50 if op == "ListResourceTags" else 100
            body = json.dumps(params).encode()
            auth = (f"AWS4-HMAC-SHA256 Credential={akid}/20260101/{region}/kms/aws4_request, "
                    f"SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
                    f"Signature={'0' * 64}")
            head = (f"POST / HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
                    f"X-Amz-Target: TrentService.{op}\r\nContent-Type: application/x-amz-json-1.1\r\n"
                    f"User-Agent: load_fake\r\nX-Amz-Date: {date}\r\nX-Amz-Security-Token: tok\r\n"
                    f"Authorization: {auth}\r\nContent-Length: {len(body)}\r\n\r\n")
            out.append(head.encode() + body)
        else:
            b = buckets[(i // 12) % len(buckets)]
            sub = s3_ops[i % 6]
            auth = (f"AWS4-HMAC-SHA256 Credential={akid}/20260101/{b.region}/s3/aws4_request, "
                    f"SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature={'0' * 64}")
            head = (f"GET /{b.name}?{sub} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
                    f"User-Agent: load_fake\r\nX-Amz-Date: {date}\r\nX-Amz-Content-SHA256: {'e' * 64}\r\n"
                    f"X-Amz-Security-Token: tok\r\nAuthorization: {auth}\r\n\r\n")
            out.append(head.encode())
    return out


class Client(asyncio.Protocol):
    def __init__(self, reqs: list[bytes], shared: dict, done: asyncio.Future, depth: int) -> None:
        self.reqs, self.shared, self.done, self.depth = reqs, shared, done, depth
        self.buf = bytearray()
        self.inflight = 0
        self.need = -1  # bytes of the current response still expected after the header

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport
        for _ in range(self.depth):
            self.send()

    def send(self) -> None:
        s = self.shared
        if s["sent"] >= s["total"]:
            if self.inflight == 0:
                self.t.close()
            return
        req = self.reqs[s["sent"] % len(self.reqs)]
        s["sent"] += 1
        self.inflight += 1
        self.t.write(req)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                return
            head = bytes(buf[:i])
            j = head.lower().find(b"content-length:")
            n = int(head[j + 15:head.find(b"\r\n", j)]) if j >= 0 else 0
            if len(buf) < i + 4 + n:
                return
            status = int(head[9:12])
            del buf[:i + 4 + n]
            s = self.shared
            s["done"] += 1
            s["status"][status] = s["status"].get(status, 0) + 1
            self.inflight -= 1
            if s["done"] >= s["total"] and not self.done.done():
                self.done.set_result(None)
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.shared["closed"] += 1


async def run_load(host: str, port: int, reqs: list[bytes], total: int, conns: int, depth: int) -> dict:
    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()
    shared = {"sent": 0, "done": 0, "total": total, "status": {}, "closed": 0}
    t0 = time.perf_counter()
    transports = []
    for _ in range(conns):
        t, _ = await loop.create_connection(lambda: Client(reqs, shared, done, depth), host, port)
        transports.append(t)
    await asyncio.wait_for(done, timeout=600)
    wall = time.perf_counter() - t0
    for t in transports:
        t.close()
    return {"wall": wall, "rps": shared["done"] / wall, "status": shared["status"]}


def stats(url: str) -> dict:
    with urllib.request.urlopen(url + "/__stats", timeout=10) as r:
        return json.loads(r.read())


def start_fake(args: argparse.Namespace, latency: float) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, str(Path(__file__).with_name("fake_aws.py")), "--port", "0", "--latency-ms", str(latency),
           "--accounts", "1", "--regions", "1", "--keys", str(args.keys), "--buckets", str(args.buckets),
           "--seed", str(args.seed), *shlex.split(args.fake_args)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line.startswith("PORT "):
        p.kill()
        raise SystemExit(f"fake_aws did not start: {line!r}")
    return p, int(line.split()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description="Measure fake_aws.py's own request ceiling (loopback only).")
    ap.add_argument("--requests", type=int, default=100_000, help="requests per scenario (bounded)")
    ap.add_argument("--connections", default="64,512",
                    help="keep-alive connections per scenario, comma-separated, paired with --latency-ms "
                         "(at L ms latency C connections can carry at most C/L req/s)")
    ap.add_argument("--pipeline", type=int, default=1, help="requests in flight per connection")
    ap.add_argument("--latency-ms", default="0,30", help="comma-separated latencies to test (fake started per value)")
    ap.add_argument("--keys", type=int, default=500)
    ap.add_argument("--buckets", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fake-args", default="", help='extra fake_aws.py options, e.g. "--cache-entries 0 --no-prewarm" '
                                                     "to measure answers computed per request")
    args = ap.parse_args()
    if args.requests > 5_000_000:
        ap.error("--requests is bounded to 5,000,000")
    world = fake_aws.World(1, 1, args.keys, args.buckets, args.seed)
    rows = []
    lats = [float(x) for x in args.latency_ms.split(",") if x.strip()]
    conn_list = [int(x) for x in args.connections.split(",") if x.strip()]
    conn_list += [conn_list[-1]] * (len(lats) - len(conn_list))
    for lat, conns in zip(lats, conn_list):
        p, port = start_fake(args, lat)
        try:
            url = f"http://127.0.0.1:{port}"
            reqs = build_requests(world, f"127.0.0.1:{port}")
            # Warm-up (connection set-up, world caches), then reset the counters.
            asyncio.run(run_load("127.0.0.1", port, reqs, min(5000, args.requests), conns, args.pipeline))
            urllib.request.urlopen(urllib.request.Request(url + "/__reset", method="POST"), timeout=10).read()
            cpu0 = stats(url)["cpu_s"]
            res = asyncio.run(run_load("127.0.0.1", port, reqs, args.requests, conns, args.pipeline))
            st = stats(url)
            cpu = st["cpu_s"] - cpu0
            bad = {k: v for k, v in res["status"].items() if k >= 500}
            rows.append((lat, conns, args.pipeline, args.requests, res["wall"], res["rps"], cpu,
                         cpu / args.requests * 1e6, args.requests / cpu if cpu else float("inf"),
                         st["total"], res["status"], bad))
        finally:
            p.terminate()
            p.wait(timeout=10)
    print(f"fake_aws.py ceiling (world 1x1x{args.keys} keys, {args.buckets} buckets; plugin-like op mix; "
          f"{os.cpu_count()} CPUs shared by generator and fake; fake args: {args.fake_args or '(defaults)'})")
    print(f"{'latency':>8} {'conns':>6} {'pipe':>5} {'requests':>9} {'wall s':>7} {'measured req/s':>15} "
          f"{'server CPU s':>13} {'us/req':>7} {'1-core ceiling req/s':>21}  statuses")
    for (lat, c, pipe, n, wall, rps, cpu, us, ceil, served, status, bad) in rows:
        print(f"{lat:>6.0f}ms {c:>6} {pipe:>5} {n:>9} {wall:>7.2f} {rps:>15,.0f} {cpu:>13.2f} {us:>7.1f} "
              f"{ceil:>21,.0f}  {dict(sorted(status.items()))}")
        if served != n or bad:
            print(f"  WARNING: fake counted {served} requests for {n} sent; 5xx: {bad}")


if __name__ == "__main__":
    main()
