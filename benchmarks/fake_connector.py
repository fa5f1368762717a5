"""A minimal fake Bot Connector service for benchmarks: accepts activities, answers at once.
`python -m benchmarks.fake_connector --port 0` prints the port it listens on."""

from __future__ import annotations

import argparse
import asyncio
import itertools

from aiohttp import web


async def serve(port: int, fail_every: int = 0) -> None:
    counter = itertools.count()
    stats = {"received": 0, "failed": 0}

    async def activity(request: web.Request) -> web.Response:
        n = next(counter)
        await request.read()
        if fail_every and n % fail_every == fail_every - 1:
            stats["failed"] += 1
            return web.json_response(
                {"error": {"code": "429"}}, status=429, headers={"Retry-After": "0.05"}
            )
        stats["received"] += 1
        return web.json_response({"id": f"r{n}"})

    async def get_stats(_request: web.Request) -> web.Response:
        return web.json_response(stats)

    app = web.Application()
    app.router.add_post("/v3/conversations/{conv}/activities/{reply}", activity)
    app.router.add_post("/v3/conversations/{conv}/activities", activity)
    app.router.add_get("/stats", get_stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(bound, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-every", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.fail_every))


if __name__ == "__main__":
    main()
