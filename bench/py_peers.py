#!/usr/bin/env python3
"""bench/py_peers.py -- the Python peers of bench/client_bench.lua: requests (one Session)
and aiohttp (one ClientSession), sequential GETs of the same document, each decoded.

    /usr/bin/python3 bench/py_peers.py requests|aiohttp URL N [CA_FILE]

One untimed warm-up request (connection + TLS handshake), then N timed ones; prints one
line: "elapsed=<s> cpu=<s> requests=<N>" where cpu is this process's user+sys time over
the timed loop only (time.process_time: getrusage), so interpreter start and imports
are not counted. Exits non-zero if a response is not a 200 with the document's "count".
Debian's python3-requests and python3-aiohttp (make deps).
"""
import sys
import time


def run_requests(url, n, ca):
    import requests
    s = requests.Session()
    verify = ca if ca else True

    def get():
        r = s.get(url, verify=verify)
        if r.status_code != 200 or "count" not in r.json():
            raise SystemExit("requests: bad response %d" % r.status_code)

    get()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        get()
    return time.perf_counter() - t0, time.process_time() - c0


def run_aiohttp(url, n, ca):
    import asyncio
    import ssl
    import aiohttp

    async def main():
        ctx = ssl.create_default_context(cafile=ca) if ca else None
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx if ctx else False)) as s:
            async def get():
                async with s.get(url) as r:
                    body = await r.json()
                    if r.status != 200 or "count" not in body:
                        raise SystemExit("aiohttp: bad response %d" % r.status)
            await get()
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                await get()
            return time.perf_counter() - t0, time.process_time() - c0

    return asyncio.run(main())


if __name__ == "__main__":
    which, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ca = sys.argv[4] if len(sys.argv) > 4 else None
    elapsed, cpu = (run_requests if which == "requests" else run_aiohttp)(url, n, ca)
    print("elapsed=%.6f cpu=%.6f requests=%d" % (elapsed, cpu, n))
