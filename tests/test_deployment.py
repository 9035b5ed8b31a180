"""The deployment files, checked offline: Dockerfiles, docker-compose.yml, Kubernetes base, overlays and example.

No Docker engine and no cluster here (deploy/README.md says what that leaves unchecked). What runs:
- hadolint and the BuildKit Dockerfile parser on every Dockerfile, plus the rules every image follows;
- Docker Compose v2's own `config` (the Compose specification's schema and references), plus our rules;
- the PostgreSQL init script against the test server: one database and one user per service, isolated;
- `kubectl kustomize` of every overlay, of the agency example and of each service's folder alone;
- every rendered object against the Kubernetes JSON schemas (kubernetes-validate, strict, pinned version);
  custom resources against subset schemas written here, and listed as not validated upstream;
- the rules the issue sets: security contexts, probes, resources, NetworkPolicies, Secrets, PDB, HPA.
A missing tool FAILS the run, with how to install it (scripts/ensure-deploy-tools.sh).
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.32.0"
HOW_TO_INSTALL = ("Install the deployment checkers with `scripts/ensure-deploy-tools.sh` (pip packages and "
                  "Docker Compose).")

# Every service with a database and a broker: api + worker + migration. Ports from DESIGN §7.
SERVICES = {"identity": 8101, "company-registry": 8102, "helpdesk": 8103, "signature": 8104, "notifier": 8105,
            "consultations": 8107}
# The web front end: api + migration (its browser sessions), no worker (it consumes no events).
WEB_PORT = 8106
FOLDERS = {"gateway": "gateway", **{name: f"services/{name}" for name in SERVICES}, "web": "web"}
PORTS = {"gateway": 8080, **SERVICES, "web": WEB_PORT}
# The services whose apis the pages call directly (web/README.md).
WEB_CALLS = {"identity": 8101, "company-registry": 8102, "helpdesk": 8103, "signature": 8104,
             "consultations": 8107, "notifier": 8105}
RENDERS = {
    "dev": "overlays/dev",
    "prod": "overlays/prod",
    "signature-alone": "examples/signature-alone",
}


# --- tools ---------------------------------------------------------------------------------------------------------

def _tool(name: str) -> str:
    for candidate in (Path(sys.executable).parent / name, shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.fail(f"`{name}` is required by the deployment checks and was not found. {HOW_TO_INSTALL}", pytrace=False)


@functools.cache
def kubectl() -> str:
    if shutil.which("kubectl") is None:
        pytest.fail("`kubectl` is required to render the Kubernetes manifests (`kubectl kustomize`, offline) and "
                    "was not found. Install it from the Kubernetes or Google Cloud apt repository (package "
                    "`kubectl`), or put a kubectl >= 1.27 on PATH.", pytrace=False)
    return shutil.which("kubectl")


@functools.cache
def compose_command() -> tuple[str, ...]:
    """Docker Compose v2: the `docker compose` plugin when the Docker CLI has it, else a `docker-compose` binary."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return (docker, "compose")
    return (_tool("docker-compose"),)


def kubernetes_validate():
    try:
        import kubernetes_validate
    except ImportError:
        pytest.fail(f"The Python package kubernetes-validate is required. {HOW_TO_INSTALL}", pytrace=False)
    return kubernetes_validate


def parse_dockerfile(path: Path) -> list:
    try:
        import dockerfile
    except ImportError:
        pytest.fail(f"The Python package dockerfile (BuildKit's parser) is required. {HOW_TO_INSTALL}",
                    pytrace=False)
    return list(dockerfile.parse_file(str(path)))


# --- Dockerfiles ---------------------------------------------------------------------------------------------------

def test_every_service_folder_has_a_dockerfile():
    folders = {p.name for p in (ROOT / "services").iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert folders <= set(SERVICES), f"services unknown to the deployment: {folders - set(SERVICES)}"
    for name, folder in FOLDERS.items():
        assert (ROOT / folder / "Dockerfile").is_file(), f"{name}: no Dockerfile in {folder}/"


@pytest.mark.parametrize("name", list(FOLDERS))
def test_ports_are_the_service_definitions(name):
    # Dockerfiles, compose and manifests use PORTS; the service itself declares its port once (DESIGN §7).
    import importlib

    definition = importlib.import_module(f"achats.{name.replace('-', '_')}.app").SERVICE
    assert (definition.name, definition.port) == (name, PORTS[name])


def test_dockerfiles_pass_hadolint():
    files = [str(ROOT / folder / "Dockerfile") for folder in FOLDERS.values()]
    result = subprocess.run([_tool("hadolint"), "--failure-threshold", "info", *files], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# What one service's image adds to the services' common Dockerfile (its instructions, comments aside).
DOCKERFILE_EXTRAS = {"notifier": {"&& test -f /usr/share/zoneinfo/Europe/Paris"}}


def _dockerfile_shape(name: str) -> list[str]:
    """A service's Dockerfile as the common one: its name and port written {name} and {port}, comments left out,
    continuation marks dropped, and the lines it is allowed to add (DOCKERFILE_EXTRAS) taken away."""
    text = (ROOT / FOLDERS[name] / "Dockerfile").read_text(encoding="utf-8")
    text = text.replace(name, "{name}").replace(str(PORTS[name]), "{port}")
    lines = [line.strip().removesuffix("\\").strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#") and line not in DOCKERFILE_EXTRAS.get(name, ())]


def test_the_services_dockerfiles_are_one_dockerfile():
    """The six services' images are built the same way: a change to one is a change to all (or an extra named
    in DOCKERFILE_EXTRAS). The gateway's and the web's differ on purpose (no database; the DSFR's build)."""
    reference = _dockerfile_shape("identity")
    for name in SERVICES:
        shape = _dockerfile_shape(name)
        assert shape == reference, f"{FOLDERS[name]}/Dockerfile is no longer the services' common Dockerfile: " + \
            "\n".join(difflib.unified_diff(reference, shape, "identity", name, lineterm="", n=0))


@pytest.mark.parametrize("name", list(FOLDERS))
def test_dockerfile_follows_the_shared_pattern(name):
    folder = FOLDERS[name]
    commands = parse_dockerfile(ROOT / folder / "Dockerfile")
    froms = [i for i, c in enumerate(commands) if c.cmd == "FROM"]
    args = {c.value[0].split("=", 1)[0]: c.value[0].split("=", 1)[1] for c in commands[:froms[0]] if c.cmd == "ARG"}
    if name == "web":
        # One stage more, first: Node installs the DSFR for the builder's asset build, and stops there.
        assert len(froms) == 3, "multi-stage: the DSFR's npm install, a builder and the final image"
        node = commands[froms[0]:froms[1]]
        assert node[0].value == ("${NODE_IMAGE}", "AS", "assets")
        assert re.fullmatch(r"node:\d+\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?", args["NODE_IMAGE"])
        assert [c.value for c in node if c.cmd == "COPY"] == [("web/package.json", "web/package-lock.json", "./")]
        (npm,) = [c.value[0] for c in node if c.cmd == "RUN"]
        assert "DSFR_ACCEPT_LICENSE=1 npm ci" in npm, "the pinned lock file, the DSFR licence accepted"
        froms = froms[1:]
    else:
        assert len(froms) == 2, "multi-stage: a builder and the final image"
    builder, final = commands[froms[0]:froms[1]], commands[froms[1]:]
    image = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11[\w.-]*-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image
    assert builder[0].value == ("${PYTHON_IMAGE}", "AS", "builder") and final[0].value == ("${PYTHON_IMAGE}",)

    copies = [c.value[0] for c in builder if c.cmd == "COPY" and not c.flags]
    assert copies == ["constraints.txt", "libs/chassis", folder], "the builder copies the pins, the chassis, itself"
    (install,) = [c.value[0] for c in builder if c.cmd == "RUN" and "pip install" in c.value[0]]
    if name == "web":
        staged = [(c.flags, c.value[0]) for c in builder if c.cmd == "COPY" and c.flags]
        assert staged == [(("--from=assets",), "/src/web/node_modules")]
        assert "python -m achats.web.assets /opt/web-assets /src/web/node_modules" in install, "assets built here"
    assert "-c constraints.txt" in install and "--no-cache-dir" in install
    assert f"./{folder}" in install and "./libs/chassis" in install
    assert "[testing]" not in install and "chassis-testing" not in install, "no test tools (TcpProxy) in an image"
    assert "gunicorn" in install and "uvicorn-worker" in install, "`serve --workers N` execs gunicorn"

    final_by_cmd: dict[str, list] = {}
    for command in final:
        final_by_cmd.setdefault(command.cmd, []).append(command)
    if name == "web":
        # The venv and the built assets; no Node, no node_modules.
        assert [(c.flags, c.value[0]) for c in final_by_cmd["COPY"]] == [
            (("--from=builder",), "/opt/venv"), (("--from=builder",), "/opt/web-assets")]
        assert not any("node" in " ".join(c.value) for c in final), "no Node in the final image"
    else:
        assert [c.flags for c in final_by_cmd["COPY"]] == [("--from=builder",)], "only the venv reaches the image"
    assert not any("apt-get" in c.value[0] for c in final_by_cmd.get("RUN", [])), "slim: no system packages"
    assert any("useradd" in c.value[0] and "--uid 10001" in c.value[0] for c in final_by_cmd["RUN"])
    assert final_by_cmd["USER"][-1].value == ("10001:10001",)
    env = " ".join(" ".join(c.value) for c in final_by_cmd["ENV"])
    assert "PROMETHEUS_MULTIPROC_DIR /tmp/metrics" in env and f"PORT {PORTS[name]}" in env
    if name == "web":
        assert "ASSETS_DIR /opt/web-assets" in env, "the pages serve the assets built in the image"
    assert final_by_cmd["EXPOSE"][0].value == (str(PORTS[name]),)
    (healthcheck,) = final_by_cmd["HEALTHCHECK"]
    assert healthcheck.value[:2] == ("CMD", "python") and "/healthz" in healthcheck.value[-1]
    assert final_by_cmd["CMD"][-1].value == (f"achats-{name}", "serve", "--workers", "2")


def test_dockerignore_keeps_the_context_small():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "var", "**/tests", "**/__pycache__", "**/node_modules"):
        assert entry in ignored, entry


# --- docker-compose.yml --------------------------------------------------------------------------------------------

def compose(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*compose_command(), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


@functools.cache
def compose_model() -> dict[str, Any]:
    result = compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_file_is_valid_for_docker_compose():
    # Docker Compose's own loader: the Compose specification's JSON schema, interpolation, references.
    result = compose("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_runs_each_service_as_migration_api_and_worker():
    services = compose_model()["services"]
    for name in SERVICES:
        command = f"achats-{name}"
        assert services[f"{name}-migrate"]["command"] == [command, "migrate"]
        assert services[f"{name}-migrate"]["restart"] == "no"
        assert services[name].get("command") is None, "the api runs the image's CMD: serve --workers 2"
        assert services[f"{name}-worker"]["command"] == [command, "worker"]
        for role in (name, f"{name}-worker"):
            needs = services[role]["depends_on"]
            assert needs[f"{name}-migrate"]["condition"] == "service_completed_successfully", role
            assert needs["postgres"]["condition"] == needs["rabbitmq"]["condition"] == "service_healthy", role
        assert services[f"{name}-migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[f"{name}-worker"]["healthcheck"] == {"disable": True}, "a worker answers no HTTP"


def test_compose_waits_only_on_health_checks_that_exist():
    services = compose_model()["services"]
    for name, service in services.items():
        for target, need in service.get("depends_on", {}).items():
            if need["condition"] != "service_healthy":
                continue
            check = services[target].get("healthcheck")
            if check is None:  # the image's own HEALTHCHECK: one of ours, built here
                dockerfile = services[target]["build"]["dockerfile"]
                assert "HEALTHCHECK" in (ROOT / dockerfile).read_text(), f"{name} waits on {target}: no health check"
            else:
                assert not check.get("disable") and check.get("test"), f"{name} waits on {target}: no health check"


def test_compose_gateway_fronts_every_api():
    services = compose_model()["services"]
    gateway = services["gateway"]
    assert [p["published"] for p in gateway["ports"]] == ["8080"]
    upstreams = dict(pair.split("=", 1) for pair in gateway["environment"]["UPSTREAMS"].split(","))
    assert upstreams == {name: f"http://{name}:{port}" for name, port in {**SERVICES, "web": WEB_PORT}.items()}
    assert {k for k, v in gateway["depends_on"].items() if v["condition"] == "service_healthy"} >= {*SERVICES, "web"}
    for name in (*SERVICES, "web"):
        assert "ports" not in services[name], f"{name}: the apis are reached through the gateway only"


def test_compose_platform_containers_are_read_only_and_unprivileged():
    services = compose_model()["services"]
    ours = [name for name, s in services.items() if s.get("image", "").startswith("achats/")]
    assert len(ours) == 3 * len(SERVICES) + 5  # + web and its migration, gateway, INSEE and TSA stand-ins
    for name in ours:
        service = services[name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert {t.split(":")[0] for t in service["tmpfs"]} == {"/tmp", "/tmp/metrics"}, name
        assert service["build"]["context"] == str(ROOT), name


def test_compose_gives_each_service_its_own_database_and_user():
    services = compose_model()["services"]
    declared = dict(entry.split(":", 1) for entry in services["postgres"]["environment"]["ACHATS_DATABASES"].split())
    for name in SERVICES:
        database = name.replace("-", "_")
        for role in (name, f"{name}-worker", f"{name}-migrate"):
            url = services[role]["environment"]["DATABASE_URL"]
            assert url == f"postgresql://{database}:{declared[database]}@postgres:5432/{database}", role
    for role in ("web", "web-migrate"):
        assert services[role]["environment"]["DATABASE_URL"] == f"postgresql://web:{declared['web']}@postgres:5432/web"


def test_compose_runs_the_web_front_end_as_migration_and_api_behind_the_gateway():
    services = compose_model()["services"]
    web, migrate = services["web"], services["web-migrate"]
    assert "web-worker" not in services, "the web front end consumes no events"
    assert migrate["command"] == ["achats-web", "migrate"] and migrate["restart"] == "no"
    assert web.get("command") is None, "the api runs the image's CMD: serve --workers 2"
    assert web["depends_on"]["web-migrate"]["condition"] == "service_completed_successfully"
    environment = web["environment"]
    assert {environment[f"WEB_{key}_URL"] for key in ("IDENTITY", "REGISTRY", "HELPDESK", "SIGNATURE",
                                                                          "CONSULTATIONS", "NOTIFIER")} == {
        f"http://{name}:{port}" for name, port in WEB_CALLS.items()}
    assert len(environment["SECRET_KEY"]) >= 32 and environment["AMQP_URL"] == ""
    # A login starts a session only once identity's access token is checked: identity's keys and issuer.
    identity = services["identity"]["environment"]
    assert environment["JWKS_URL"] == "http://identity:8101/identity/.well-known/jwks.json"
    assert (environment["JWT_ISSUER"], environment["JWT_AUDIENCE"]) == (identity["ISSUER"], "achats")
    for name in WEB_CALLS:
        assert web["depends_on"][name]["condition"] == "service_healthy"


def test_compose_and_kubernetes_dev_use_the_same_pinned_infrastructure():
    compose_images = {s["image"] for s in compose_model()["services"].values()
                      if not s.get("image", "").startswith("achats/")}
    for image in compose_images:
        assert ":" in image and not image.endswith(":latest"), image
    dev_images = {c["image"] for o in render("dev") for c in containers(o) if not c["image"].startswith("achats/")}
    assert dev_images == compose_images


def test_postgres_init_script_gives_each_service_its_own_database(postgres_server_url):
    import psycopg
    from sqlalchemy.engine import make_url

    if shutil.which("psql") is None:
        pytest.fail("`psql` is required to run the PostgreSQL init script (apt-get install postgresql-client).",
                    pytrace=False)
    from achats.chassis.testing.plugin import unique_name

    server = make_url(postgres_server_url)
    names = [unique_name("achats_init"), unique_name("achats_init")]
    env = {**os.environ, "PGHOST": server.host or "127.0.0.1", "PGPORT": str(server.port or 5432),
           "POSTGRES_USER": server.username or "postgres", "ACHATS_DATABASES": " ".join(f"{n}:pw-{n}" for n in names)}
    if server.password:
        env["PGPASSWORD"] = server.password
    script = K8S / "components" / "dev-postgres" / "init-databases.sh"
    try:
        result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        own, other = names
        url = server.set(username=own, password=f"pw-{own}", database=own).render_as_string(hide_password=False)
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            conn.execute("CREATE TABLE probe (id int)")  # the owner may create its schema
        foreign = server.set(username=own, password=f"pw-{own}", database=other)
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(foreign.render_as_string(hide_password=False)).close()
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'DROP ROLE IF EXISTS "{name}"')


# --- Kubernetes ----------------------------------------------------------------------------------------------------

@functools.cache
def render_text(path: str) -> str:
    result = subprocess.run([kubectl(), "kustomize", str(K8S / path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {path}:\n{result.stderr}"
    return result.stdout


def render(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(render_text(RENDERS[name])) if doc]


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert matches, f"no {kind} {name}"
    return matches[0]


def pod_spec(obj: dict) -> dict | None:
    if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
        return obj["spec"]["template"]["spec"]
    return None


def containers(obj: dict) -> list[dict]:
    spec = pod_spec(obj)
    return [] if spec is None else spec.get("containers", []) + spec.get("initContainers", [])


def is_platform(obj: dict) -> bool:
    labels = obj["spec"]["template"]["metadata"]["labels"] if pod_spec(obj) else obj["metadata"].get("labels", {})
    return labels.get("app.kubernetes.io/part-of") == "achats"


def labels_match(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and not selector.get(
        "matchExpressions")


# Custom resources: kubernetes-validate ships only the Kubernetes API's schemas, and no PyPI or npm package ships
# these operators' CRDs (their upstream CRD files are 200-400 kB of YAML, not vendored here). They are checked
# against the subset schemas below, written from the operators' API references for the fields this repository
# uses, closed (additionalProperties false) so that a misspelt field fails.
NOT_VALIDATED_UPSTREAM = {
    ("postgresql.cnpg.io/v1", "Cluster"): "CloudNativePG CRD: no packaged schema; checked with CNPG_CLUSTER below",
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "RabbitMQ Cluster Operator CRD: no packaged schema; checked with "
                                                  "RABBITMQ_CLUSTER below",
}
_RESOURCES = {"type": "object", "additionalProperties": False, "properties": {
    "requests": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
    "limits": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}}}}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "labels": _LABELS}}
CNPG_CLUSTER = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "postgresql.cnpg.io/v1"}, "kind": {"const": "Cluster"}, "metadata": _METADATA,
        "spec": {"type": "object", "required": ["instances", "storage"], "additionalProperties": False, "properties": {
            "instances": {"type": "integer", "minimum": 1},
            "imageName": {"type": "string", "pattern": r"^[^:]+:[\w][\w.-]*$"},
            "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
            "inheritedMetadata": {"type": "object", "additionalProperties": False,
                                  "properties": {"labels": _LABELS, "annotations": _LABELS}},
            "bootstrap": {"type": "object", "additionalProperties": False, "properties": {
                "initdb": {"type": "object", "required": ["database", "owner"], "additionalProperties": False,
                           "properties": {"database": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"},
                                          "owner": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"}}}}},
            "storage": {"type": "object", "required": ["size"], "additionalProperties": False,
                        "properties": {"size": {"type": "string"}, "storageClass": {"type": "string"}}},
            "affinity": {"type": "object", "additionalProperties": False, "properties": {
                "enablePodAntiAffinity": {"type": "boolean"}, "topologyKey": {"type": "string"}}},
            "resources": _RESOURCES,
        }},
    },
}
RABBITMQ_CLUSTER = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "rabbitmq.com/v1beta1"}, "kind": {"const": "RabbitmqCluster"}, "metadata": _METADATA,
        "spec": {"type": "object", "additionalProperties": False, "properties": {
            "replicas": {"type": "integer", "minimum": 1},
            "image": {"type": "string", "pattern": r"^[^:]+:[\w][\w.-]*$"},
            "persistence": {"type": "object", "additionalProperties": False,
                            "properties": {"storage": {"type": "string"}, "storageClassName": {"type": "string"}}},
            "resources": _RESOURCES,
            "rabbitmq": {"type": "object", "additionalProperties": False,
                         "properties": {"additionalConfig": {"type": "string"}}},
            # A core/v1 Affinity: validated against the Kubernetes schema in the test.
            "affinity": {"type": "object"},
        }},
    },
}
CRD_SCHEMAS = {("postgresql.cnpg.io/v1", "Cluster"): CNPG_CLUSTER,
               ("rabbitmq.com/v1beta1", "RabbitmqCluster"): RABBITMQ_CLUSTER}


def test_the_kubernetes_validator_rejects_a_broken_object():
    # Guards the next test against a validator that accepts anything.
    validator = kubernetes_validate()
    broken = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
              "spec": {"replicas": "two", "selector": {"matchLabels": {"a": "b"}},
                       "template": {"metadata": {"labels": {"a": "b"}},
                                    "spec": {"containers": [{"name": "x", "image": "x:1", "readynessProbe": {}}]}}}}
    with pytest.raises(validator.ValidationError):
        validator.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("folder", ["base", *(f"base/{name}" for name in FOLDERS)])
def test_each_base_renders_alone(folder):
    # An agency takes one service's folder without the rest of the platform.
    objects = [doc for doc in yaml.safe_load_all(render_text(folder)) if doc]
    assert objects


@pytest.mark.parametrize("name", list(RENDERS))
def test_rendered_objects_validate_against_the_schemas(name):
    validator = kubernetes_validate()
    not_validated: set[tuple[str, str]] = set()
    errors = []
    for obj in render(name):
        key = (obj["apiVersion"], obj["kind"])
        if key in CRD_SCHEMAS:
            not_validated.add(key)
            problems = [f"{'/'.join(map(str, e.path))}: {e.message}"
                        for e in jsonschema.Draft202012Validator(CRD_SCHEMAS[key]).iter_errors(obj)]
            errors += [f"{obj['kind']}/{obj['metadata']['name']}: {p}" for p in problems]
            if obj["kind"] == "RabbitmqCluster" and "affinity" in obj["spec"]:
                pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "affinity"},
                       "spec": {"affinity": obj["spec"]["affinity"], "containers": [{"name": "x", "image": "x:1"}]}}
                validator.validate(pod, KUBERNETES_VERSION, strict=True)
            continue
        try:
            validator.validate(obj, KUBERNETES_VERSION, strict=True)
        except validator.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']} {'/'.join(map(str, exc.path))}: {exc.message}")
        except validator.SchemaNotFoundError as exc:
            errors.append(f"{exc.message}: not a Kubernetes {KUBERNETES_VERSION} object and not a known CRD")
    assert not errors, "\n".join(errors)
    assert not_validated <= set(NOT_VALIDATED_UPSTREAM)


@pytest.mark.parametrize("name", list(RENDERS))
def test_platform_pods_are_non_root_read_only_bounded_and_probed(name):
    rendered = render(name)
    workloads = [o for o in rendered if pod_spec(o) is not None and is_platform(o)]
    claims = {o["metadata"]["name"] for o in rendered if o["kind"] == "PersistentVolumeClaim"}
    assert workloads
    for obj in workloads:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        spec = pod_spec(obj)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001, where
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec["automountServiceAccountToken"] is False, where
        assert spec["serviceAccountName"] == obj["metadata"]["labels"]["app.kubernetes.io/name"], where
        mounts_by_volume = {v["name"]: v for v in spec["volumes"]}
        for container in containers(obj):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert {"/tmp", "/tmp/metrics"} <= set(mounts), where
            # Scratch space is an emptyDir; durable data (the sealed deposits) a claim rendered with the service.
            assert all("emptyDir" in mounts_by_volume[v]
                       or mounts_by_volume[v].get("persistentVolumeClaim", {}).get("claimName") in claims
                       for v in mounts.values()), where
            image = container["image"]
            assert re.search(r"(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$", image) and not image.endswith(":latest"), where
            component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
            if component == "api":
                assert container["readinessProbe"]["httpGet"]["path"] in ("/readyz", "/healthz"), where
                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
                assert container["lifecycle"]["preStop"], where
                assert spec["terminationGracePeriodSeconds"] >= 30, where
            elif component == "worker":
                # No probe yet: the worker has no health signal (deploy/k8s/README.md, "Gaps").
                assert spec["terminationGracePeriodSeconds"] >= 30, where


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_each_service_has_its_deployment_objects(name):
    objects = render(name)
    for service, port in SERVICES.items():
        api = find(objects, "Deployment", f"{service}-api")
        assert containers(api)[0]["args"] == ["serve", "--workers", "2"]
        assert containers(find(objects, "Deployment", f"{service}-worker"))[0]["args"] == ["worker"]
        assert containers(find(objects, "Job", f"{service}-migrate"))[0]["args"] == ["migrate"]
        assert find(objects, "Service", service)["spec"]["ports"][0]["port"] == port
        find(objects, "ServiceAccount", service)
        assert [o for o in objects if o["kind"] == "ConfigMap"
                and o["metadata"]["name"].startswith(f"{service}-config")]
        pdb = find(objects, "PodDisruptionBudget", f"{service}-api")
        assert labels_match(pdb["spec"]["selector"], api["spec"]["template"]["metadata"]["labels"])
        hpa = find(objects, "HorizontalPodAutoscaler", f"{service}-api")
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"{service}-api"
        find(objects, "NetworkPolicy", f"{service}-isolation")
        find(objects, "NetworkPolicy", f"{service}-api-ingress")
    web = find(objects, "Deployment", "web-api")
    assert containers(web)[0]["args"] == ["serve", "--workers", "2"]
    assert containers(find(objects, "Job", "web-migrate"))[0]["args"] == ["migrate"]
    assert not [o for o in objects if o["metadata"]["name"] == "web-worker"], "the web front end has no worker"
    assert find(objects, "Service", "web")["spec"]["ports"][0]["port"] == WEB_PORT
    find(objects, "ServiceAccount", "web")
    assert labels_match(find(objects, "PodDisruptionBudget", "web-api")["spec"]["selector"],
                        web["spec"]["template"]["metadata"]["labels"])
    assert find(objects, "HorizontalPodAutoscaler", "web-api")["spec"]["scaleTargetRef"]["name"] == "web-api"
    gateway_config = next(o for o in objects if o["kind"] == "ConfigMap"
                          and o["metadata"]["name"].startswith("gateway-config"))
    upstreams = dict(pair.split("=", 1) for pair in gateway_config["data"]["UPSTREAMS"].split(","))
    assert upstreams["web"] == f"http://web:{WEB_PORT}", "the gateway's WEB upstream"
    configs = {name: next(o["data"] for o in objects if o["kind"] == "ConfigMap"
                          and o["metadata"]["name"].startswith(f"{name}-config")) for name in ("web", "identity")}
    assert configs["web"]["JWKS_URL"] == "http://identity:8101/identity/.well-known/jwks.json"
    assert configs["web"]["JWT_ISSUER"] == configs["identity"]["ISSUER"], "the web checks identity's tokens"
    find(objects, "HorizontalPodAutoscaler", "gateway")
    find(objects, "PodDisruptionBudget", "gateway")
    ingress = find(objects, "Ingress", "gateway")
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "gateway"


def policies_selecting(objects: list[dict], labels: dict, policy_type: str) -> list[dict]:
    return [o for o in objects if o["kind"] == "NetworkPolicy" and policy_type in o["spec"]["policyTypes"]
            and labels_match(o["spec"]["podSelector"], labels)]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_network_policies_isolate_each_service(name):
    objects = render(name)
    for obj in (o for o in objects if pod_spec(o) is not None and is_platform(o)):
        labels = obj["spec"]["template"]["metadata"]["labels"]
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert policies_selecting(objects, labels, "Ingress"), f"{where}: no ingress isolation"
        egress = policies_selecting(objects, labels, "Egress")
        assert egress, f"{where}: no egress isolation"
        service = labels["app.kubernetes.io/name"]
        reached = {key for policy in egress for rule in policy["spec"].get("egress", []) for peer in rule.get("to", [])
                   for key in peer.get("podSelector", {}).get("matchLabels", {}) if key.startswith("database.")}
        assert reached <= {f"database.achats.io/{service}"}, f"{where} reaches other databases: {reached}"
    exceptions = {"identity": {"app.kubernetes.io/part-of"}, "company-registry": {"app.kubernetes.io/name"}}
    web = {"app.kubernetes.io/name": "web"}
    for service in (*SERVICES, "web"):
        api_labels = find(objects, "Deployment", f"{service}-api")["spec"]["template"]["metadata"]["labels"]
        peers = [peer for policy in policies_selecting(objects, api_labels, "Ingress")
                 for rule in policy["spec"].get("ingress", []) for peer in rule.get("from", [])]
        assert peers, f"{service}: nobody may reach the api"
        for peer in peers:
            selector = peer["podSelector"]["matchLabels"]
            if selector == web:
                assert service in WEB_CALLS, f"the web front end reaches {service}, which its pages do not call"
            elif selector != {"app.kubernetes.io/name": "gateway"}:
                assert set(selector) <= exceptions.get(service, set()), f"{service} api reachable from {selector}"
    # The web front end reaches exactly the apis its pages call, and the gateway reaches it.
    web_labels = find(objects, "Deployment", "web-api")["spec"]["template"]["metadata"]["labels"]
    reached = {(peer["podSelector"]["matchLabels"].get("app.kubernetes.io/name"), port["port"])
               for policy in policies_selecting(objects, web_labels, "Egress")
               for rule in policy["spec"].get("egress", []) for peer in rule.get("to", [])
               for port in rule.get("ports", []) if "app.kubernetes.io/name" in peer.get("podSelector", {}).get(
                   "matchLabels", {})}
    assert reached == set(WEB_CALLS.items())
    gateway_labels = find(objects, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    gateway_ports = {port["port"] for policy in policies_selecting(objects, gateway_labels, "Egress")
                     for rule in policy["spec"].get("egress", []) for port in rule.get("ports", [])}
    assert WEB_PORT in gateway_ports


@pytest.mark.parametrize("name", list(RENDERS))
def test_each_database_is_labelled_for_its_own_service_only(name):
    objects = render(name)
    for obj in objects:
        if obj["kind"] == "Cluster":
            service = obj["metadata"]["labels"]["app.kubernetes.io/name"]
            assert obj["metadata"]["name"] == f"{service}-db", "its Secret <cluster>-app is what the base reads"
            assert obj["spec"]["inheritedMetadata"]["labels"] == {f"database.achats.io/{service}": "true"}
            assert obj["spec"]["bootstrap"]["initdb"]["database"] == service.replace("-", "_")


def documented_secrets() -> set[str]:
    text = (K8S / "README.md").read_text()
    section = text.split("## Secrets", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.M))


@pytest.mark.parametrize("name", list(RENDERS))
def test_every_secret_is_rendered_or_documented(name):
    objects = render(name)
    rendered = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}
    rendered |= {f"{o['metadata']['name']}-app" for o in objects if o["kind"] == "Cluster"}  # made by CloudNativePG
    referenced = {ref["name"] for o in objects for c in containers(o) for e in c.get("env", [])
                  if (ref := e.get("valueFrom", {}).get("secretKeyRef"))}
    missing = referenced - rendered - documented_secrets()
    assert not missing, f"Secrets neither rendered nor listed in deploy/k8s/README.md: {sorted(missing)}"
    if name == "dev":
        assert referenced <= rendered, "the dev overlay is complete by itself"


def test_dev_overlay_brings_single_instance_infrastructure():
    objects = render("dev")
    for kind, name in (("StatefulSet", "postgres"), ("StatefulSet", "rabbitmq"), ("Deployment", "mailpit"),
                       ("Deployment", "insee-standin"), ("Deployment", "redis")):
        assert find(objects, kind, name)["spec"]["replicas"] == 1
    postgres = find(objects, "StatefulSet", "postgres")["spec"]["template"]["metadata"]["labels"]
    assert {f"database.achats.io/{s}" for s in (*SERVICES, "web")} <= set(postgres)
    registry = next(o for o in objects if o["kind"] == "ConfigMap"
                    and o["metadata"]["name"].startswith("company-registry-config"))
    assert registry["data"]["INSEE_BASE_URL"] == "http://insee-standin:8190/api-sirene/3.11"
    standin = find(objects, "Deployment", "insee-standin")
    assert containers(standin)[0]["command"] == ["achats-insee-standin"]


def test_prod_overlay_uses_operators_external_smtp_and_tls():
    objects = render("prod")
    clusters = {o["metadata"]["name"] for o in objects if o["kind"] == "Cluster"}
    assert clusters == {f"{s}-db" for s in (*SERVICES, "web")}
    assert all(o["spec"]["instances"] >= 3 for o in objects if o["kind"] == "Cluster")
    rabbit = find(objects, "RabbitmqCluster", "rabbitmq")
    assert rabbit["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"]["additionalConfig"]
    assert not [o for o in objects if o["kind"] == "StatefulSet"], "stateful parts come from the operators"
    assert not [o for o in objects if o["metadata"]["name"] in ("mailpit", "insee-standin", "postgres")]
    ingress = find(objects, "Ingress", "gateway")
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
    worker = containers(find(objects, "Deployment", "notifier-worker"))[0]
    mail = next(e for e in worker["env"] if e["name"] == "MAIL_URL")
    assert mail["valueFrom"]["secretKeyRef"]["name"] == "notifier-smtp"
    registry = next(o for o in objects if o["kind"] == "ConfigMap"
                    and o["metadata"]["name"].startswith("company-registry-config"))
    assert registry["data"]["INSEE_BASE_URL"].startswith("https://api.insee.fr/")
