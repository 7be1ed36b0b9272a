"""examples/deploy/kubernetes, run with `podman kube play` as far as podman supports it: Redis and
two oscal-mcp replicas (the Deployment's `replicas: 2`) that share it, each answering a token.

What podman 4.3 (Debian bookworm) cannot do is substituted, each in a function saying why, and
listed in README ("Kubernetes"): no cluster DNS (the Redis Service name becomes the Redis pod's
address), Secrets it mishandles (secret volumes get base64 text, `secretKeyRef` cannot read a played
Secret: their values become files and literals), container ports published on the host (dropped),
a liveness probe run as `curl` inside the container (dropped), no registry (local images), and no
Services, Ingress, readiness or startup probes at all (we reach each pod at its own address).
"""

from __future__ import annotations

import copy
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from tests.e2e.clients import bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.podman import REPO, build, podman

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

MANIFESTS = REPO / "examples" / "deploy" / "kubernetes"
EXAMPLE_KEY = "example-reader-key-replace-me-0123456789"  # secret.yaml's keys.json holds its hash
PUBLIC_URL = "https://oscal.example.com/mcp"
Manifest = dict[str, Any]


def manifests() -> list[Manifest]:
    """Every object kustomization.yaml lists, in its order."""
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in yaml.safe_load_all((MANIFESTS / name).read_text())]


def find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def pod_spec(deployment: Manifest) -> Manifest:
    spec: Manifest = deployment["spec"]["template"]["spec"]
    return spec


def secret_values_as_files(deployment: Manifest, secret: Manifest, directory: Path) -> None:
    """podman 4.3 writes a played Secret's values into a volume still base64-encoded (and ignores
    `items`): each secret volume becomes a host directory holding the listed keys, decoded."""
    for volume in pod_spec(deployment)["volumes"]:
        source = volume.pop("secret", None)
        if source is None:
            continue
        target = directory / volume["name"]
        target.mkdir(mode=0o755)
        for item in source["items"]:
            path = target / item["path"]
            path.write_text(secret["stringData"][item["key"]])
            path.chmod(0o644)  # the image's user 10001 reads them
        volume["hostPath"] = {"path": str(target), "type": "Directory"}


def secret_references_as_literals(deployment: Manifest, secret: Manifest, redis_address: str) -> None:
    """podman 4.3 cannot read a played Secret in `secretKeyRef`, and has no cluster DNS: the value
    becomes a literal, with the Redis Service's name replaced by the Redis pod's address."""
    for container in pod_spec(deployment)["containers"]:
        for variable in container.get("env", []):
            reference = variable.pop("valueFrom")["secretKeyRef"]
            value: str = secret["stringData"][reference["key"]]
            variable["value"] = value.replace("@redis:6379/", f"@{redis_address}:6379/")


def without_liveness_probe(deployment: Manifest) -> None:
    """podman 4.3 turns an httpGet liveness probe into `curl` run inside the container; the image
    has no curl (and this host no systemd to schedule the check)."""
    for container in pod_spec(deployment)["containers"]:
        container.pop("livenessProbe")


def with_image(deployment: Manifest, image: str) -> None:
    pod_spec(deployment)["containers"][0]["image"] = image


def without_host_ports(deployment: Manifest) -> None:
    """podman 4.3 publishes every containerPort on the host's port of that number, on all its
    addresses: two replicas would clash on 8000 and on the metrics port 9464 (and we bind only
    loopback). Every port is dropped; the test reaches each pod at its own address instead."""
    for container in pod_spec(deployment)["containers"]:
        container.pop("ports")


def write_documents(path: Path, documents: list[Manifest]) -> Path:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def pod_address(pod: str, container: str) -> str:
    template = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return podman("inspect", "--format", template, f"{pod}-{container}").stdout.strip()


class Played:
    """`podman kube play` of a file, and `podman kube down` of it however the test ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Played:
        try:
            podman("kube", "play", str(self.path), timeout=300)
        except BaseException:
            self.__exit__()  # what it started before failing
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        podman("kube", "down", str(self.path), check=False, timeout=120)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Redis, then the two replicas; yields pod name -> address (and "redis")."""
    server_image, _ = build()
    redis_image, _ = build("--redis")
    directory = tmp_path_factory.mktemp("kube")
    objects = manifests()
    secret = find(objects, "Secret", "oscal-mcp-secrets")
    redis_deployment = copy.deepcopy(find(objects, "Deployment", "redis"))
    with_image(redis_deployment, redis_image)
    without_host_ports(redis_deployment)
    secret_values_as_files(redis_deployment, secret, directory)
    with Played(write_documents(directory / "redis.yaml", [redis_deployment])):
        redis_address = pod_address("redis-pod-0", "redis")
        deployment = copy.deepcopy(find(objects, "Deployment", "oscal-mcp"))
        with_image(deployment, server_image)
        without_host_ports(deployment)
        secret_values_as_files(deployment, secret, directory)
        secret_references_as_literals(deployment, secret, redis_address)
        without_liveness_probe(deployment)
        config_map = find(objects, "ConfigMap", "oscal-mcp-settings")
        with Played(write_documents(directory / "oscal-mcp.yaml", [config_map, deployment])):
            replicas = {pod: pod_address(pod, "oscal-mcp") for pod in ("oscal-mcp-pod-0", "oscal-mcp-pod-1")}
            yield {**replicas, "redis": redis_address}


def test_the_manifests_name_the_image_make_image_builds_and_its_version() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    deployment = find(manifests(), "Deployment", "oscal-mcp")
    assert pod_spec(deployment)["containers"][0]["image"] == f"localhost/oscal-mcp:{version}"
    assert deployment["spec"]["replicas"] == 2
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    assert kustomization["images"] == [
        {"name": "localhost/oscal-mcp", "newName": "registry.example.com/oscal-mcp", "newTag": version}
    ]


def test_the_scrape_annotations_name_the_metrics_port_the_settings_open() -> None:
    objects = manifests()
    deployment = find(objects, "Deployment", "oscal-mcp")
    settings = find(objects, "ConfigMap", "oscal-mcp-settings")["data"]
    ports = {port["name"]: port["containerPort"] for port in pod_spec(deployment)["containers"][0]["ports"]}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert settings["OSCAL_MCP_METRICS_HOST"] == "0.0.0.0"
    assert int(settings["OSCAL_MCP_METRICS_PORT"]) == ports["metrics"] == int(annotations["prometheus.io/port"])
    assert (annotations["prometheus.io/scrape"], annotations["prometheus.io/path"]) == ("true", "/metrics")
    service_ports = find(objects, "Service", "oscal-mcp")["spec"]["ports"]
    assert [port["targetPort"] for port in service_ports] == ["http"]  # metrics never behind the Service


def test_secret_files_are_mounted_readable_by_the_server_group_only() -> None:
    """The server refuses group- or world-writable secret files and warns on world-readable ones
    (oscal_mcp_auth.secret_files); Kubernetes' default mode, 0644, would warn at every start."""
    spec = pod_spec(find(manifests(), "Deployment", "oscal-mcp"))
    secret_volumes = [volume["secret"] for volume in spec["volumes"] if "secret" in volume]
    assert secret_volumes
    for source in secret_volumes:
        assert source["defaultMode"] & 0o027 == 0, oct(source["defaultMode"])  # no group write, nothing for others
    assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsGroup"]


def test_redis_takes_the_password_of_the_secret(played: dict[str, str]) -> None:
    secret = find(manifests(), "Secret", "oscal-mcp-secrets")
    url = secret["stringData"]["OSCAL_AUTH_CACHE_URL"].replace("@redis:", f"@{played['redis']}:")
    with redis.Redis.from_url(url, socket_timeout=5) as client:
        assert client.ping() is True
    with redis.Redis(host=played["redis"], socket_timeout=5) as anonymous, pytest.raises(redis.AuthenticationError):
        anonymous.ping()


@pytest.mark.parametrize("pod", ["oscal-mcp-pod-0", "oscal-mcp-pod-1"])
def test_each_replica_is_alive_and_ready_with_the_shared_redis(played: dict[str, str], pod: str) -> None:
    base = f"http://{played[pod]}:8000"
    wait_until_listening(base + "/healthz")
    alive = httpx.get(base + "/healthz", timeout=10)  # the Host is the pod address, as a kubelet's
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    ready = httpx.get(base + "/readyz", timeout=15)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["redis"] == "ok"


@pytest.mark.parametrize("pod", ["oscal-mcp-pod-0", "oscal-mcp-pod-1"])
async def test_each_replica_answers_the_example_token(played: dict[str, str], pod: str) -> None:
    url = f"http://{played[pod]}:8000/mcp"
    wait_until_listening(url)
    refused = post_initialize(url)
    assert refused.status_code == 401
    assert challenge_params(refused)["resource_metadata"] == (
        "https://oscal.example.com/.well-known/oauth-protected-resource/mcp"
    )
    assert post_initialize(url, bearer("not-the-key")).status_code == 401
    async with mcp_client(url, EXAMPLE_KEY) as client:
        about = (await client.call_tool("about", {})).structured_content
    assert about is not None
    assert about["caller"]["client_id"] == "reader"
    assert about["auth"]["resource_server_url"] == PUBLIC_URL


@pytest.mark.parametrize("pod", ["oscal-mcp-pod-0", "oscal-mcp-pod-1"])
def test_each_replica_serves_its_metrics_at_the_annotated_port(played: dict[str, str], pod: str) -> None:
    url = f"http://{played[pod]}:9464/metrics"
    wait_until_listening(url)
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200
    build = [line for line in answer.text.splitlines() if line.startswith("oscal_mcp_build_info{")]
    assert len(build) == 1 and build[0].endswith(" 1.0"), build


def test_replicas_run_as_the_image_user_on_a_read_only_root(played: dict[str, str]) -> None:
    for pod in ("oscal-mcp-pod-0", "oscal-mcp-pod-1"):
        template = "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}"
        assert podman("inspect", "--format", template, f"{pod}-oscal-mcp").stdout.split() == ["10001:10001", "true"]


def wait_until_listening(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
