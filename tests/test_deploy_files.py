"""The deployment files agree with the code: compose.yaml, deploy/nginx.conf, the Dockerfile and
its entrypoint, and docs/deploy.md (every setting, command and route they name exists)."""

from __future__ import annotations

import argparse
import fnmatch
import ipaddress
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from pledge.cli import build_parser
from pledge.config import Settings
from tests.support.appserver import LiveServer, free_port

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
GUIDE = ROOT / "docs" / "deploy.md"
APPS = ("app1", "app2")


# --- compose.yaml --------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def service_named(compose: dict[str, Any], *names: str) -> dict[str, Any]:
    found = [services(compose)[name] for name in names if name in services(compose)]
    assert found, f"no service named {' or '.join(names)}"
    return found[0]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_compose_runs_two_apps_from_one_image_over_postgres_redis_and_a_proxy(
    compose: dict[str, Any],
) -> None:
    apps = [services(compose)[name] for name in APPS]
    postgres = service_named(compose, "postgres", "db")
    redis = service_named(compose, "redis")
    proxy = service_named(compose, "proxy", "nginx")

    assert apps[0]["image"] == apps[1]["image"]
    assert apps[0].get("build") == apps[1].get("build") == "."
    assert postgres["image"].startswith("postgres:16")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert redis["image"].startswith("redis:7")
    assert proxy["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    for app in apps:
        env = environment(app)
        assert env["PLEDGE_ENV"] == "production"
        assert env["PLEDGE_DATABASE_URL"].startswith("postgresql+psycopg://")
        host = "postgres" if "postgres" in services(compose) else "db"
        assert f"@{host}:5432/" in env["PLEDGE_DATABASE_URL"]
        # The password is no part of the file: libpq reads PGPASSWORD from the env file.
        assert ":" not in env["PLEDGE_DATABASE_URL"].split("://", 1)[1].split("@")[0]
        assert env["PLEDGE_RATELIMIT_STORAGE"].startswith("redis://redis:6379/")


def test_compose_apps_are_health_checked_and_wait_for_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    for name in APPS:
        app = services(compose)[name]
        assert "/healthz" in " ".join(app["healthcheck"]["test"]), name
        assert "curl" not in " ".join(app["healthcheck"]["test"]), name
        needs = app["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy", name
        assert needs["redis"]["condition"] == "service_healthy", name
        # The schema is brought up to date once, not raced by both apps.
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
    migrate = services(compose)["migrate"]
    assert migrate["command"] == ["pledge", "db", "upgrade"]
    assert migrate["image"] == services(compose)["app1"]["image"]
    proxy_needs = service_named(compose, "proxy", "nginx")["depends_on"]
    assert {name: proxy_needs[name]["condition"] for name in APPS} == dict.fromkeys(
        APPS, "service_healthy"
    )


def test_compose_publishes_only_the_proxy_and_trusts_forwarded_headers_from_its_network(
    compose: dict[str, Any],
) -> None:
    published = {name for name, service in services(compose).items() if service.get("ports")}
    assert published == {"proxy"}
    assert set(service_named(compose, "proxy")["ports"]) == {"80:80", "443:443"}

    subnets = [
        ipaddress.ip_network(pool["subnet"])
        for network in compose["networks"].values()
        for pool in network["ipam"]["config"]
    ]
    for name in APPS:
        trusted = ipaddress.ip_network(environment(services(compose)[name])["FORWARDED_ALLOW_IPS"])
        assert any(trusted.subnet_of(subnet) for subnet in subnets), name  # type: ignore[arg-type]


def ignored_by(patterns_file: Path, path: str) -> bool:
    """Whether a .gitignore or .dockerignore (as far as these files use them) leaves out
    ``path``: the last matching pattern decides, a pattern also covers what is under it."""
    ignored = False
    for raw in patterns_file.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        parts = path.split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if patterns_file.name == ".gitignore" and "/" not in pattern:
            candidates += parts  # a bare gitignore pattern matches at any depth
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
            ignored = not negate
    return ignored


def test_compose_reads_secrets_from_env_files_that_stay_out_of_git_and_the_image(
    compose: dict[str, Any],
) -> None:
    env_files = {
        name: service["env_file"]
        for name, service in services(compose).items()
        if "env_file" in service
    }
    assert env_files["app1"] == env_files["app2"] == "deploy/pledge.env"
    assert "deploy/postgres.env" in env_files.values()
    app_example = (ROOT / "deploy" / "pledge.env.example").read_text()
    for name in ("PLEDGE_SECRET_KEY", "PLEDGE_PUBLIC_URL", "PGPASSWORD"):
        assert re.search(rf"^{name}=", app_example, re.MULTILINE), name
    assert "POSTGRES_PASSWORD=" in (ROOT / "deploy" / "postgres.env.example").read_text()
    for name in set(env_files.values()):
        assert ignored_by(ROOT / "deploy" / ".gitignore", Path(name).name), name
        assert ignored_by(ROOT / ".dockerignore", name), name
        assert not ignored_by(ROOT / "deploy" / ".gitignore", Path(name).name + ".example")
    for name, service in services(compose).items():
        assert "PLEDGE_SECRET_KEY" not in environment(service), name


# --- deploy/nginx.conf ---------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    children: list[Directive] = field(default_factory=list)

    def all(self, name: str) -> list[Directive]:
        return [child for child in self.children if child.name == name]

    def one(self, name: str, *args: str) -> Directive:
        found = [d for d in self.all(name) if not args or d.args == list(args)]
        assert len(found) == 1, f"{len(found)} {name} {' '.join(args)} in {self.name}"
        return found[0]

    def value(self, name: str) -> str:
        return " ".join(self.one(name).args)

    def walk(self) -> Iterator[Directive]:
        for child in self.children:
            yield child
            yield from child.walk()


TOKEN = re.compile(r"#[^\n]*|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};#\"']+")


def parse_nginx(text: str) -> Directive:
    root = Directive("main", [])
    stack: list[Directive] = [root]
    words: list[str] = []
    for token in TOKEN.findall(text):
        if token.startswith("#"):
            continue
        if token in (";", "{"):
            directive = Directive(words[0], [w.strip("\"'") for w in words[1:]])
            stack[-1].children.append(directive)
            if token == "{":
                stack.append(directive)
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "unbalanced braces in nginx.conf"
    return root


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total = 0.0
    for number, unit in re.findall(r"(\d+)(ms|s|m|h|d)?", duration):
        total += int(number) * units[unit or "s"]
    return total


def size_bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", size).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


@pytest.fixture(scope="module")
def nginx() -> Directive:
    return parse_nginx(NGINX.read_text())


def https_server(nginx: Directive) -> Directive:
    http = nginx.one("http")
    found = [s for s in http.all("server") if any("ssl" in d.args for d in s.all("listen"))]
    assert len(found) == 1
    return found[0]


def test_nginx_streams_live_counts_unbuffered_for_an_hour(nginx: Directive, app: FastAPI) -> None:
    server = https_server(nginx)
    events = [d for d in server.all("location") if d.args[:1] == ["~"]]
    assert len(events) == 1
    pattern = re.compile(events[0].args[1])
    path = app.url_path_for("embeds_events", slug="suarakan-cintamu")
    assert pattern.search(path)
    assert not pattern.search(path + "/more")
    assert not pattern.search("/c/suarakan-cintamu")

    stream = events[0]
    assert stream.value("proxy_buffering") == "off"
    assert stream.value("gzip") == "off"
    assert seconds(stream.value("proxy_read_timeout")) >= 3600
    elsewhere = seconds(nginx.one("http").value("proxy_read_timeout"))
    assert 10 <= elsewhere <= 120  # ordinary pages keep an ordinary timeout
    assert stream.value("proxy_pass") == server.one("location", "/").value("proxy_pass")
    # A full app answers 503: the stream goes to the other one.
    assert "http_503" in stream.one("proxy_next_upstream").args
    assert "event-stream" not in nginx.one("http").value("gzip_types")


def test_nginx_closes_metrics_to_the_internet(nginx: Directive, app: FastAPI) -> None:
    assert "/metrics" in {getattr(route, "path", None) for route in app.routes}
    metrics = https_server(nginx).one("location", "=", "/metrics")

    assert metrics.value("deny") == "all"
    assert not metrics.all("proxy_pass")


def test_nginx_passes_every_request_to_both_apps_with_the_client_address(
    nginx: Directive, compose: dict[str, Any]
) -> None:
    http = nginx.one("http")
    upstream = http.one("upstream")
    servers = {d.args[0] for d in upstream.all("server")}
    assert servers == {f"{name}:8000" for name in APPS}
    assert set(APPS) <= set(services(compose))
    assert https_server(nginx).one("location", "/").value("proxy_pass") == (
        f"http://{upstream.args[0]}"
    )

    headers = {d.args[0].lower(): d.args[1] for d in http.all("proxy_set_header")}
    assert headers["x-forwarded-for"] in ("$remote_addr", "$proxy_add_x_forwarded_for")
    assert headers["x-forwarded-proto"] == "$scheme"
    assert headers["host"] == "$host"
    # nginx forgets every inherited proxy_set_header in a block that sets one of its own.
    below = [d for server in http.all("server") for d in server.walk()]
    assert [d for d in below if d.name == "proxy_set_header"] == []


def test_nginx_accepts_a_screenshot_as_large_as_the_app_does(nginx: Directive) -> None:
    allowed = size_bytes(nginx.one("http").value("client_max_body_size"))
    app_limit = Settings().max_upload_bytes

    assert app_limit < allowed <= app_limit + 2 * 1024**2


def test_nginx_redirects_plain_http_but_serves_certificate_challenges(nginx: Directive) -> None:
    plain = [
        s
        for s in nginx.one("http").all("server")
        if not any("ssl" in d.args for d in s.all("listen"))
    ]
    assert len(plain) == 1
    challenge = plain[0].one("location", "/.well-known/acme-challenge/")
    assert challenge.value("root") == "/var/www/certbot"
    assert plain[0].one("location", "/").value("return") == "301 https://$host$request_uri"
    certificate = https_server(nginx).value("ssl_certificate")
    assert certificate == "/etc/letsencrypt/live/pledge/fullchain.pem"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    split: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions():
        if instruction[0] == "FROM":
            split.append([])
        if split:
            split[-1].append(instruction)
    return split


def test_dockerfile_builds_in_stages_and_runs_unprivileged_in_production() -> None:
    built = stages()
    assert len(built) >= 2
    assert built[0][0][1].endswith(" AS builder")
    runtime = built[-1]
    assert runtime[0][1].startswith("python:3.11-slim")
    assert any(i == "COPY" and "--from=builder" in args for i, args in runtime)
    assert not any("pip install" in args for i, args in runtime if i == "RUN")  # no build there

    users = [args for i, args in runtime if i == "USER"]
    assert users, "the runtime stage sets no USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    env = " ".join(args for i, args in runtime if i == "ENV")
    assert "PLEDGE_ENV=production" in env
    assert any("fonts-dejavu-core" in args for i, args in runtime if i == "RUN")


def healthcheck_command() -> str:
    checks = [args for i, args in stages()[-1] if i == "HEALTHCHECK"]
    assert len(checks) == 1
    command = checks[0].split(" CMD ", 1)[1]
    assert "curl" not in command and "wget" not in command
    return command


@pytest.mark.server
def test_dockerfile_healthcheck_passes_on_a_serving_app_and_fails_without_one(
    live_server: LiveServer, tmp_path: Path
) -> None:
    command = healthcheck_command()
    port = live_server.url.rsplit(":", 1)[1]
    # "python" in the image is the virtual environment's, first on its PATH.
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PORT": port}

    up = subprocess.run(["sh", "-c", command], env=env, capture_output=True, timeout=30)
    down = subprocess.run(
        ["sh", "-c", command],
        env={**env, "PORT": str(free_port())},
        capture_output=True,
        timeout=30,
    )

    assert up.returncode == 0, up.stderr
    assert down.returncode == 1


def copied_sources() -> list[str]:
    sources = []
    for instruction, args in dockerfile_instructions():
        if instruction == "COPY" and "--from=" not in args:
            words = [w for w in args.split() if not w.startswith("--")]
            sources += words[:-1]
    return sources


def test_dockerignore_sends_the_sources_and_keeps_data_and_secrets_out() -> None:
    dockerignore = ROOT / ".dockerignore"
    sources = copied_sources()
    assert {"pyproject.toml", "pledge", "templates", "static"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored_by(dockerignore, source), source
    for private in (".env", "deploy/pledge.env", "var/pledge.db", ".venv", ".git", "tests"):
        assert ignored_by(dockerignore, private), private


@pytest.fixture
def fake_pledge(tmp_path: Path) -> Path:
    """A `pledge` that writes down how it was called, one line per call."""
    calls = tmp_path / "calls"
    script = tmp_path / "bin" / "pledge"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    script.chmod(0o755)
    return calls


def run_entrypoint(fake_pledge: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = f"{fake_pledge.parent / 'bin'}:{os.environ['PATH']}"
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_entrypoint_migrates_then_serves_with_the_containers_settings(
    fake_pledge: Path,
) -> None:
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    assert any(
        i == "COPY" and "deploy/docker-entrypoint.sh" in args
        for i, args in dockerfile_instructions()
    )

    done = run_entrypoint(
        fake_pledge, WORKERS="3", PORT="8123", FORWARDED_ALLOW_IPS="172.28.0.0/24"
    )

    assert done.returncode == 0, done.stderr
    upgrade, serve = fake_pledge.read_text().splitlines()
    assert upgrade == "db upgrade"
    assert (
        serve == "serve --host 0.0.0.0 --port 8123 --workers 3 --forwarded-allow-ips 172.28.0.0/24"
    )
    parsed = build_parser().parse_args(serve.split())
    assert (parsed.host, parsed.port, parsed.workers) == ("0.0.0.0", 8123, 3)  # noqa: S104


def test_entrypoint_defaults_trust_no_proxy_but_loopback(fake_pledge: Path) -> None:
    done = run_entrypoint(fake_pledge, "serve")

    assert done.returncode == 0, done.stderr
    assert fake_pledge.read_text().splitlines()[-1] == (
        "serve --host 0.0.0.0 --port 8000 --workers 2 --forwarded-allow-ips 127.0.0.1"
    )


def test_entrypoint_runs_any_other_command_as_given(fake_pledge: Path) -> None:
    done = run_entrypoint(fake_pledge, "pledge", "mail", "send")

    assert done.returncode == 0, done.stderr
    assert fake_pledge.read_text() == "mail send\n"  # no migration first


# --- docs/deploy.md and the settings -------------------------------------------------

SETTING = re.compile(r"\bPLEDGE_([A-Z0-9_]*[A-Z0-9])\b")
DEPLOY_FILES = [
    COMPOSE,
    GUIDE,
    DOCKERFILE,
    NGINX,
    ROOT / "deploy" / "pledge.env.example",
    ROOT / "deploy" / "postgres.env.example",
]


@pytest.mark.parametrize("path", DEPLOY_FILES, ids=lambda path: path.name)
def test_every_setting_the_deploy_files_name_exists(path: Path) -> None:
    named = set(SETTING.findall(path.read_text()))
    unknown = sorted(
        f"PLEDGE_{name}" for name in named if name.lower() not in Settings.model_fields
    )

    assert unknown == []


def test_the_guide_names_the_settings_a_production_site_needs() -> None:
    named = set(SETTING.findall(GUIDE.read_text()))

    assert {"SECRET_KEY", "PUBLIC_URL", "DATABASE_URL", "RATELIMIT_STORAGE", "SMTP_URL"} <= named
    assert {"METRICS_TOKEN", "LIVE_STREAMS_MAX", "RETENTION_MONTHS"} <= named


def code_in(markdown: str) -> list[str]:
    """Fenced blocks and inline code spans, with shell line continuations joined."""
    fence = r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```"
    fenced = re.findall(fence, markdown, re.MULTILINE | re.DOTALL)
    prose = re.sub(fence, "", markdown, flags=re.MULTILINE | re.DOTALL)
    inline = [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", prose)]
    return [re.sub(r"\\\n\s*", " ", chunk) for chunk in fenced + inline]


CRON_FIELD = re.compile(r"[\d*/,-]+")


def pledge_commands(markdown: str) -> list[list[str]]:
    """The arguments of every `pledge ...` command line in the guide's code."""
    commands = []
    for chunk in code_in(markdown):
        for line in chunk.splitlines():
            words = line.split()
            for n, word in enumerate(words):
                if word not in ("pledge", ".venv/bin/pledge") or (n and words[n - 1][0] == "-"):
                    continue  # not the command, or the value of another command's option
                if n >= 5 and all(CRON_FIELD.fullmatch(w) for w in words[n - 5 : n]):
                    continue  # the user a line of /etc/cron.d runs as
                args: list[str] = []
                for arg in words[n + 1 :]:
                    if arg in ("|", "&&", ";", "||") or arg[0] in "<>#" or arg.startswith("2>"):
                        break
                    args.append(arg)
                if args and not args[0].startswith("-"):
                    commands.append(args)
    return commands


def subcommand(parser: argparse.ArgumentParser, args: list[str]) -> argparse.ArgumentParser:
    """Follow the subcommand words of ``args`` down the parser tree."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            assert args and args[0] in action.choices, f"pledge has no command {args[:1]}"
            return subcommand(action.choices[args[0]], args[1:])
    return parser


def test_every_pledge_command_in_the_guide_exists_with_its_options() -> None:
    commands = pledge_commands(GUIDE.read_text())
    named = {" ".join(args[:2]) for args in commands}
    assert {"mail send", "retention run", "tallies reconcile", "db upgrade"} <= named
    assert {"users", "orgs", "backup"} <= {args[0] for args in commands}

    for args in commands:
        parser = subcommand(build_parser(), args)
        options = {option for action in parser._actions for option in action.option_strings}
        given = {arg.split("=", 1)[0] for arg in args if arg.startswith("--")}
        assert given <= options, f"pledge {' '.join(args)}: unknown {sorted(given - options)}"
