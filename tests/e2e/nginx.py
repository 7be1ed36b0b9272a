"""Real nginx (Debian package) on 127.0.0.1, run with the README's recipe, examples/deploy/nginx.conf.

nginx runs in the foreground (``daemon off``) as the test's own process, with its prefix, pid file,
logs and temp directories in a temporary directory: nothing outside it is written, nothing of the
system's nginx set-up is read.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.e2e.mcp_server import free_port

RECIPE = Path(__file__).resolve().parents[2] / "examples" / "deploy" / "nginx.conf"
RECIPE_SERVER_NAME = "oscal.example.com"
RECIPE_REPLICAS = ("127.0.0.1:8001", "127.0.0.1:8002")
RECIPE_LISTEN = "listen 80;"

_MAIN_CONFIG = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/oscal-mcp.conf;
}}
"""


class NginxError(RuntimeError):
    """nginx is missing, refused the configuration or did not start."""


def nginx_executable() -> str:
    found = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if found is None:
        raise NginxError("nginx is not installed: apt-get install nginx (make setup does, as root)")
    return found


def render_recipe(recipe: str, *, listen_port: int, server_name: str, replica_ports: Sequence[int]) -> str:
    """The recipe with only its ports and server name replaced; every replaced text must be there once."""
    replacements = {
        RECIPE_LISTEN: f"listen 127.0.0.1:{listen_port};",
        f"server_name {RECIPE_SERVER_NAME};": f"server_name {server_name};",
        **{
            f"server {address};": f"server 127.0.0.1:{port};"
            for address, port in zip(RECIPE_REPLICAS, replica_ports, strict=True)
        },
    }
    for old, new in replacements.items():
        if recipe.count(old) != 1:
            raise NginxError(f"{RECIPE} should contain {old!r} exactly once; update the test with the recipe")
        recipe = recipe.replace(old, new)
    return recipe


class NginxProxy:
    """nginx with the recipe in front of `replica_ports`, listening on a free loopback port."""

    def __init__(self, *, server_name: str, replica_ports: Sequence[int]) -> None:
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="nginx-test-")
        self.tmp = Path(self._dir.name)
        # nginx started by root runs its workers as nobody: they must reach the temp directories.
        self.tmp.chmod(0o711)
        site = render_recipe(
            RECIPE.read_text(), listen_port=self.port, server_name=server_name, replica_ports=replica_ports
        )
        (self.tmp / "oscal-mcp.conf").write_text(site)
        (self.tmp / "nginx.conf").write_text(_MAIN_CONFIG.format(tmp=self.tmp))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def error_log(self) -> str:
        path = self.tmp / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 20.0) -> NginxProxy:
        command = [
            nginx_executable(), "-p", f"{self.tmp}/", "-c", str(self.tmp / "nginx.conf"),
            "-e", str(self.tmp / "error.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() reaches the workers too
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NginxError(f"nginx exited with {self.process.returncode}:\n{self.error_log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise NginxError(f"nginx did not listen within {timeout} s:\n{self.error_log}")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()  # SIGTERM: fast shutdown, open event streams are not waited for
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> NginxProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self._dir.cleanup()
