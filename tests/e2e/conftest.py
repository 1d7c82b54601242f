"""The opt-in suite against a real cluster: `MIZZEN_E2E_KUBECONFIG=PATH make e2e` (never part of
`make test`: pyproject's ``norecursedirs`` leaves this folder out unless it is named).

See tests/e2e/README.md for what the cluster needs and the other ``MIZZEN_E2E_*`` variables.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.agent.support import RestartableApi, eventually
from tests.e2e.cluster_support import POLL_SECONDS, E2eConfig, E2eInstallation, Kubectl, local_ip

from mizzen.settings import Settings

DATA_BUCKET = "mizzen-e2e-data"
MOTO = "mizzen-e2e-moto"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e-secret", "AWS_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def e2e_config() -> E2eConfig:
    try:
        return E2eConfig.from_env()
    except RuntimeError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.fixture(scope="session")
def namespace(e2e_config: E2eConfig) -> Iterator[Kubectl]:
    """The namespace runs go to: MIZZEN_E2E_NAMESPACE, or a fresh one deleted at the end."""
    name = e2e_config.namespace or f"mizzen-e2e-{uuid.uuid4().hex[:8]}"
    kubectl = Kubectl(e2e_config.kubeconfig, name)
    created = e2e_config.namespace is None
    if created:
        kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield kubectl
    finally:
        if created:
            kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def s3_in_cluster(namespace: Kubectl, e2e_config: E2eConfig) -> Iterator[str]:
    """A moto S3 server in the namespace (Deployment + Service); yields its in-cluster endpoint."""
    labels = {"app.kubernetes.io/name": MOTO}
    namespace.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": MOTO, "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "moto",
                                "image": e2e_config.moto_image,
                                "ports": [{"containerPort": 5000}],
                            }
                        ]
                    },
                },
            },
        }
    )
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": MOTO},
            "spec": {"selector": labels, "ports": [{"port": 5000, "targetPort": 5000}]},
        }
    )
    namespace.run("rollout", "status", f"deployment/{MOTO}", f"--timeout={int(e2e_config.timeout)}s")
    endpoint = f"http://{MOTO}.{namespace.namespace}.svc:5000"
    secret = {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
    for name in ("aws-credentials", "mizzen-store-credentials"):
        namespace.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in secret.items()},
            }
        )
    _put_dataset(namespace, e2e_config, endpoint)
    yield endpoint


def _put_dataset(namespace: Kubectl, config: E2eConfig, endpoint: str) -> None:
    """The bucket and a file in it, written by a Job in the cluster (the moto image has boto3)."""
    script = (
        "import boto3; "
        f"s3 = boto3.client('s3', endpoint_url='{endpoint}'); "
        f"s3.create_bucket(Bucket='{DATA_BUCKET}'); "
        f"s3.put_object(Bucket='{DATA_BUCKET}', Key='datasets/digits/train.csv', Body=b'pixel,label\\n')"
    )
    name = f"{MOTO}-dataset"
    namespace.apply(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name},
            "spec": {
                "backoffLimit": 3,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [
                            {
                                "name": "put",
                                "image": config.moto_image,
                                "command": ["python", "-c", script],
                                "envFrom": [{"secretRef": {"name": "aws-credentials"}}],
                            }
                        ],
                    }
                },
            },
        }
    )
    namespace.run("wait", "--for=condition=complete", f"job/{name}", f"--timeout={int(config.timeout)}s")


@pytest.fixture
def installation(
    e2e_config: E2eConfig,
    namespace: Kubectl,
    s3_in_cluster: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[E2eInstallation]:
    for name in list(os.environ):
        if name.startswith("MIZZEN_") and not name.startswith("MIZZEN_E2E_"):
            monkeypatch.delenv(name)
    settings = Settings(home=tmp_path / "server-home", executor="kubernetes")
    api = RestartableApi(settings, bind=e2e_config.bind).start()
    runs_host = e2e_config.runs_host or f"http://{local_ip()}:{api.port}"
    data = {"name": "data", "kind": "s3", "schema": {"bucket": f"s3://{DATA_BUCKET}"}}
    catalog = {"connections": [{**data, "secret": {"name": "aws-credentials"}}]}
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    homes = {}
    for who in ("agent", "user"):
        homes[who] = tmp_path / f"{who}-home"
        homes[who].mkdir()
        (homes[who] / "connections.yaml").write_text(yaml.safe_dump(catalog))
    agent_env = {
        **base,
        "MIZZEN_HOME": str(homes["agent"]),
        "MIZZEN_INIT_IMAGE": e2e_config.image,
        "MIZZEN_AGENT_RUNS_HOST": runs_host,
        "MIZZEN_ARTIFACTS_STORE": f"s3://{DATA_BUCKET}/artifacts",
        "MIZZEN_AGENT_ARTIFACTS_SECRET": "mizzen-store-credentials",
    }
    user_env = {**base, "MIZZEN_HOME": str(homes["user"]), "MIZZEN_HOST": api.url, "COLUMNS": "200"}
    setup = E2eInstallation(e2e_config, namespace, api, tmp_path, agent_env, user_env)
    try:
        yield setup
    finally:
        for process in setup.agents:
            if process.poll() is None:
                process.terminate()
                process.wait(60)
        api.stop()
        for index in range(len(setup.agents)):
            print(f"--- agent {index} ---\n{setup.agent_log(index)}")


@pytest.fixture
def started(installation: E2eInstallation) -> E2eInstallation:
    """The installation with its agent started and claiming."""
    installation.start_agent()
    eventually(
        lambda: "claiming" in installation.agent_log(),
        "the agent started",
        installation.config.timeout,
        POLL_SECONDS,
    )
    return installation
