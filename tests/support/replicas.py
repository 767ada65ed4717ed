"""Real ``ccplane serve`` replicas for the cluster tests: started as processes
on one database, against the sandbox Asterisk, reached over plain HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from ccplane.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(settings: Settings, port: int, check_interval: float = 1.0,
          log: Path | None = None) -> subprocess.Popen[bytes]:
    """``ccplane serve`` on ``port``; its output goes to ``log`` when given (for a failure's details)."""
    env = {**os.environ, "CCPLANE_DATABASE_URL": settings.database.url,
           "CCPLANE_AUTH_SECRET_KEY": settings.auth.secret_key, "CCPLANE_LOG_FORMAT": "text",
           "CCPLANE_ASTERISK_TAKE_OVER": "1",  # the suite's deployments share one sandbox
           "CCPLANE_CLUSTER_RETRY_INTERVAL": "0.5", "CCPLANE_CLUSTER_CHECK_INTERVAL": str(check_interval)}
    out: Any = subprocess.DEVNULL if log is None else log.open("ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "ccplane", "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()


async def request(port: int, method: str, path: str, json: Any = None,
                  token: str | None = None) -> tuple[int, Any]:
    """(status, JSON body) of one API call to the replica on ``port``; (0, None) when it does not answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.request(method, f"http://127.0.0.1:{port}/api/v1{path}", json=json,
                                    headers=headers) as resp:
                return resp.status, await resp.json()
    except aiohttp.ClientError:
        return 0, None


async def get(port: int, path: str) -> tuple[int, Any]:
    return await request(port, "GET", path)


async def leading(port: int) -> dict[str, Any] | None:
    """The replica's health once it leads and serves (AMI up); None before."""
    status, body = await get(port, "/health")
    if not (status == 200 and body["role"] == "leader" and body["ami"]):
        return None
    return body if (await get(port, "/health/leader"))[0] == 200 else None


async def answering(port: int, role: str) -> dict[str, Any] | None:
    status, body = await get(port, "/health")
    return body if status == 200 and body["role"] == role else None
