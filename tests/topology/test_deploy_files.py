"""The deployment files say what the topology test runs: systemd units, Caddyfile, docker/.

No Docker engine or systemd runs here, so these read the files: the units pass
`systemd-analyze verify` (where installed) and run the topology's commands in its order, the
Caddyfile validates with Caddy, the compose file starts db -> migrate -> web/worker -> proxy
with healthchecks, the image installs the hashed lock as a non-root owner of /data, and the
entrypoint builds a database URL that survives any password.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml
from sqlalchemy.engine import make_url

from server.cli.main import build_parser
from server.settings import load_settings
from tests.topology.stack import CADDYFILE, REPO, caddy_command, copnet_command

SYSTEMD = REPO / "deploy" / "systemd"
DOCKER = REPO / "docker"
INSTALLED_COPNET = "/opt/copnet/venv/bin/copnet"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (systemd keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def copnet_arguments(exec_start: str, instance: str = "8001") -> list[str]:
    """The arguments an ExecStart= line gives `copnet`, with %i filled in."""
    words = shlex.split(exec_start.replace("%i", instance).replace("%%", "%"))
    if words[:2] == ["/bin/sh", "-c"]:
        words = shlex.split(words[2].removeprefix("exec "))
    assert INSTALLED_COPNET in words, exec_start
    return words[words.index(INSTALLED_COPNET) + 1 :]


def test_units_run_the_topology_commands_in_its_order():
    migrate = unit("copnet-migrate.service")
    assert migrate["Service"]["Type"] == ["oneshot"]
    assert copnet_arguments(migrate["Service"]["ExecStart"][0]) == ["migrate"]

    web = unit("copnet-web@.service")
    command = web["Service"]["ExecStart"][0]
    assert command.startswith("/usr/bin/env COPNET_RUN_WORKERS=false ")
    assert copnet_arguments(command) == ["serve", "--host", "127.0.0.1", "--port", "8001"]
    worker = unit("copnet-worker@.service")
    assert copnet_arguments(worker["Service"]["ExecStart"][0]) == ["worker"]
    for started in (web, worker):
        assert "copnet-migrate.service" in started["Unit"]["Requires"]
        assert "copnet-migrate.service" in started["Unit"]["After"][0].split()
        assert started["Service"]["User"] == ["copnet"]
        assert started["Service"]["Restart"] == ["always"]
        assert started["Service"]["EnvironmentFile"] == ["/etc/copnet/copnet.env"]
        assert started["Install"]["WantedBy"] == ["copnet.target"]

    backup = unit("copnet-backup.service")
    arguments = copnet_arguments(backup["Service"]["ExecStart"][0])
    assert arguments[:2] == ["backup", "--force"]
    assert arguments[2].startswith("/var/backups/copnet/")
    assert unit("copnet-backup.timer")["Timer"]["OnCalendar"]


@pytest.mark.parametrize(
    "name",
    [
        "copnet-migrate.service",
        "copnet-web@.service",
        "copnet-worker@.service",
        "copnet-backup.service",
    ],
)
def test_every_copnet_command_of_the_units_is_one_copnet_accepts(name):
    parser = build_parser()
    for exec_start in unit(name)["Service"]["ExecStart"]:
        arguments = copnet_arguments(exec_start)
        parsed = parser.parse_args(arguments)  # SystemExit (a failure) if copnet refuses it
        assert parsed.command == arguments[0]


def test_units_pass_systemd_analyze_verify(tmp_path):
    names = []
    for path in sorted(SYSTEMD.iterdir()):
        # The units name the install path; point them at this checkout's copnet to verify.
        text = path.read_text().replace(INSTALLED_COPNET, copnet_command())
        (tmp_path / path.name).write_text(text)
        names.append(path.name.replace("@.", "@1."))
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        # No systemd here (a container): check what verify would, that every program exists.
        for name in names:
            for key in ("ExecStart", "ExecStartPost"):
                for line in unit(name.replace("@1.", "@.")).get("Service", {}).get(key, []):
                    program = shlex.split(line)[0].replace(INSTALLED_COPNET, copnet_command())
                    assert os.access(program, os.X_OK), f"{name}: {program} is not executable"
        return
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(f"./{name}" for name in names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = result.stdout + result.stderr
    assert result.returncode == 0, problems
    assert "Unknown" not in problems and "Invalid" not in problems, problems


def test_copnet_cli_runs_the_installed_copnet_with_the_units_settings():
    script = (REPO / "deploy" / "copnet-cli").read_text()
    assert INSTALLED_COPNET + ' "$@"' in script
    environment_file = unit("copnet-web@.service")["Service"]["EnvironmentFile"][0]
    assert f"--property=EnvironmentFile={environment_file}" in script
    assert "--uid=copnet" in script
    subprocess.run(["sh", "-n", str(REPO / "deploy" / "copnet-cli")], check=True, timeout=30)


def test_environment_file_example_is_a_valid_configuration():
    environ = {}
    for raw in (REPO / "deploy" / "copnet.env.example").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            environ[key] = " ".join(shlex.split(value))  # systemd unquotes as a shell does
    settings = load_settings(environ)
    assert settings.instance_name == "Health and Care CoPs"
    assert settings.url.startswith("https://")
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert "COPNET_RUN_WORKERS" not in environ  # the units set it per process
    assert {"COPNET_HOST", "COPNET_PORT"}.isdisjoint(environ)


def test_caddyfile_validates_with_caddy(tmp_path):
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "COPNET_DOMAIN": "cops.example.org",
        "COPNET_UPSTREAMS": "127.0.0.1:8001 127.0.0.1:8002",
    }
    result = subprocess.run(
        [caddy_command(), "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    adapted = subprocess.run(
        [caddy_command(), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    # Both web processes behind one name, checked on /healthz.
    assert '"dial":"127.0.0.1:8001"' in adapted and '"dial":"127.0.0.1:8002"' in adapted
    assert '"uri":"/healthz"' in adapted
    assert '"cops.example.org"' in adapted


def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_starts_db_then_migrate_then_web_and_workers_then_proxy():
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "web1", "web2", "worker", "proxy"}
    db = services["db"]
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    migrate = services["migrate"]
    assert migrate["command"] == ["copnet", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    completed = {"migrate": {"condition": "service_completed_successfully"}}
    for name in ("web1", "web2"):
        web = services[name]
        assert web["command"] == ["copnet", "serve"]
        assert web["environment"]["COPNET_RUN_WORKERS"] == "false"
        assert web["depends_on"] == completed
        assert "/healthz" in " ".join(web["healthcheck"]["test"])
    worker = services["worker"]
    assert worker["command"] == ["copnet", "worker"]
    assert worker["deploy"]["replicas"] == 2
    assert worker["depends_on"] == completed
    proxy = services["proxy"]
    assert proxy["depends_on"] == {
        "web1": {"condition": "service_healthy"},
        "web2": {"condition": "service_healthy"},
    }
    assert "../deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert proxy["environment"]["COPNET_UPSTREAMS"] == "web1:8080 web2:8080"
    for name in ("migrate", "web1", "web2", "worker"):
        assert "media:/data" in services[name]["volumes"]
        environment = services[name]["environment"]
        assert "DATABASE_URL" not in environment  # built from parts by the entrypoint
        assert environment["POSTGRES_HOST"] == "db"


def test_compose_healthcheck_command_is_valid_python():
    test = compose()["services"]["web1"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "healthcheck", "exec")


def test_image_runs_as_a_user_that_owns_the_data_volume_and_installs_the_lock():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"install -d -o copnet -g copnet .*/data", dockerfile)
    assert "USER copnet" in dockerfile
    assert dockerfile.index("install -d -o copnet") < dockerfile.index('VOLUME ["/data"]')
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "COPNET_MEDIA_DIR=/data/media" in dockerfile
    assert 'ENTRYPOINT ["python", "/usr/local/bin/copnet-entrypoint"]' in dockerfile
    for copied in re.findall(r"^COPY (\S+)", dockerfile, re.MULTILINE):
        assert (REPO / copied).exists(), f"the Dockerfile copies {copied}, which is missing"


def test_dockerignore_keeps_out_the_checkout_but_not_what_the_image_copies():
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch.fnmatch(p, pattern) for p in prefixes for pattern in patterns)

    for needed in (
        "pyproject.toml",
        "README.md",
        "requirements.lock",
        "server/app.py",
        "federation/__init__.py",
        "models/__init__.py",
        "docker/entrypoint.py",
    ):
        assert not ignored(needed), needed
    for unwanted in (
        ".git/HEAD",
        ".venv/bin/python",
        "tests/interop/node_modules/x",
        "var/x",
        "docker/.env",
    ):
        assert ignored(unwanted), unwanted


@pytest.mark.parametrize("password", ["p@ss:w/rd%20#?&", "plain", "ünï €/:@"])
def test_entrypoint_builds_a_database_url_that_keeps_any_password(tmp_path, password):
    environment = {
        "PATH": "/usr/bin:/bin",
        "POSTGRES_HOST": "db",
        "POSTGRES_USER": "copnet",
        "POSTGRES_DB": "copnet",
        "POSTGRES_PASSWORD": password,
    }
    printer = "import os; print(os.environ['DATABASE_URL'])"
    result = subprocess.run(
        [sys.executable, str(DOCKER / "entrypoint.py"), sys.executable, "-c", printer],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    database_url = load_settings({"DATABASE_URL": result.stdout.strip()}).database_url
    url = make_url(database_url)
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "copnet",
        password,
        "db",
        5432,
        "copnet",
    )


def test_entrypoint_reads_a_password_file_and_leaves_a_given_url_alone(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret/@:\n")
    printer = "import os; print(os.environ['DATABASE_URL'])"
    base = {"PATH": "/usr/bin:/bin", "POSTGRES_HOST": "db"}
    for extra, expected_password in (
        ({"POSTGRES_PASSWORD_FILE": str(secret)}, "s3cret/@:"),
        ({"DATABASE_URL": "postgresql://other:given@elsewhere/x"}, "given"),
    ):
        output = subprocess.run(
            [sys.executable, str(DOCKER / "entrypoint.py"), sys.executable, "-c", printer],
            env={**base, **extra},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert make_url(output.strip()).password == expected_password


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_lock_pins_every_dependency_with_hashes():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {
        normalized(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        for requirement in project["dependencies"]
    }
    lock = (REPO / "requirements.lock").read_text()
    pinned = {
        normalized(name): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, re.MULTILINE)
    }
    missing = wanted - set(pinned)
    assert not missing, f"requirements.lock lacks {sorted(missing)}: run docker/update-lock"
    hashed = re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}", lock, re.M)
    assert {normalized(name) for name in hashed} == set(pinned), "a pin without its hash"
    assert "file://" not in lock and "--find-links" not in lock
