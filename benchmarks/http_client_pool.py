"""httpx's own connection pool against the aiohttp-managed one the client uses.

Starts the simulator in its own process with a fixed latency, then sends the same number of
generation calls with the same number in flight through each pool, printing calls per
second and the client's CPU time per call. Usage:

    python benchmarks/http_client_pool.py [--calls 1000] [--in-flight 64] [--latency 0.2]
"""

import argparse
import asyncio
import socket
import subprocess
import sys
import time

import httpx
from httpx_aiohttp import AiohttpTransport

TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def drive(client: httpx.AsyncClient, calls: int, in_flight: int) -> tuple[float, float]:
    slots = asyncio.Semaphore(in_flight)

    async def one(number: int) -> None:
        async with slots:
            answer = await client.post(
                "/v1/text-to-image/tailored/300", json={"prompt": f"cat {number}", "sync": True}
            )
            answer.raise_for_status()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(calls)))
    return calls / (time.perf_counter() - wall), (time.process_time() - cpu) / calls


async def compare(base_url: str, calls: int, in_flight: int) -> None:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    pools = {
        "httpx (httpcore) pool": httpx.AsyncClient(limits=limits),
        "aiohttp-managed pool": httpx.AsyncClient(transport=AiohttpTransport(limits=limits)),
    }
    for name, client in pools.items():
        client.base_url = httpx.URL(base_url)
        client.headers["api_token"] = TOKEN
        async with client:
            rate, cpu = await drive(client, calls, in_flight)
        print(f"{name}: {rate:.1f} calls/s, client CPU {cpu * 1000:.2f} ms per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per call")
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "bria_fleet", "sim", "--port", str(port), "--token", TOKEN]
    command += ["--latency-ms", str(args.latency * 1000), "--generation-seconds", "0"]
    sim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base_url}/_sim/health").raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"{args.calls} calls, {args.in_flight} in flight, {args.latency * 1000:.0f} ms each")
        asyncio.run(compare(base_url, args.calls, args.in_flight))
    finally:
        sim.terminate()
        sim.wait(30)


if __name__ == "__main__":
    main()
