"""The deployment kit checked by the tools this machine has: systemd-analyze verify for the unit and
its drop-in, nginx -t for the site (Debian's nginx; installed under CI, skipped elsewhere when absent),
the compose file's structure, and the Dockerfile's build steps run in a fresh venv (slow: ZTBOT_SLOW=1).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.config import ENV_KEYS, ROOT

DEPLOY = ROOT / "deploy"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def tool(name: str, package: str) -> str:
    """The tool's path; under CI it is installed with apt-get (≈30 s), elsewhere a missing tool skips."""
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found:
        return found
    if not IN_CI:
        pytest.skip(f"{name} not installed (apt-get install {package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "--no-install-recommends", package]
    if subprocess.run(install, env=env, capture_output=True, timeout=300).returncode != 0:
        # A fresh machine may have no package lists yet: fetch them once, then install for real.
        subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=True, capture_output=True, timeout=300)
        subprocess.run(install, env=env, check=True, capture_output=True, timeout=300)
    found = shutil.which(name) or f"/usr/sbin/{name}"
    assert Path(found).exists(), f"{package} installed but {name} not found"
    return found


# ---------------------------------------------------------------- systemd


def unit_for_here(tmp_path: Path, unit_text: str) -> Path:
    """The unit with /opt/ztbot pointed at this checkout (verify checks that ExecStart exists)."""
    path = tmp_path / "ztbot.service"
    python = Path(sys.executable)
    text = unit_text.replace("/opt/ztbot/.venv/bin/python", str(python)).replace("/opt/ztbot", str(ROOT))
    path.write_text(text, encoding="utf-8")
    return path


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("systemd-analyze", "systemd"), "verify", "--man=no", str(unit)],
                          capture_output=True, text=True, timeout=60)


def test_systemd_unit_with_its_drop_in_verifies_clean(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "ztbot.service").read_text(encoding="utf-8")
    drop_in = (DEPLOY / "systemd" / "ztbot.service.d" / "env.conf").read_text(encoding="utf-8")
    # a drop-in's [Service] lines merge into the unit: verify both as one file
    done = verify(unit_for_here(tmp_path, unit + "\n" + drop_in))
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    settings_lines = [line for line in unit.splitlines() if not line.startswith("#")]
    assert "EnvironmentFile=/etc/ztbot/ztbot.env" in drop_in  # secrets only through the drop-in
    assert not any(line.startswith("EnvironmentFile") for line in settings_lines)


def test_systemd_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "ztbot.service").read_text(encoding="utf-8")
    done = verify(unit_for_here(tmp_path, unit.replace("Restart=on-failure", "Restart=sometimes")))
    assert "restart specifier" in done.stderr


def test_env_example_names_only_real_settings() -> None:
    for example in (DEPLOY / "systemd" / "ztbot.env.example", DEPLOY / "docker" / "ztbot.env.example"):
        names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example.read_text(encoding="utf-8"), re.M)
        assert names and set(names) <= set(ENV_KEYS), example
        assert "0600" in example.read_text(encoding="utf-8") or "600" in example.read_text(encoding="utf-8")


def test_service_config_examples_load(tmp_path: Path) -> None:
    from bot.config import load_settings

    for path in (DEPLOY / "systemd" / "config.yaml", DEPLOY / "docker" / "config.yaml"):
        settings = load_settings(path, env={})
        assert settings.log_format == "json" and settings.backup.enabled


# ---------------------------------------------------------------- nginx


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bot.example.gov.cn")])
    now = datetime.now(timezone.utc)
    alt = x509.SubjectAlternativeName([x509.DNSName("bot.example.gov.cn"),
                                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).add_extension(alt, critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, pem = tmp_path / "site.crt", tmp_path / "site.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


def nginx_prefix(tmp_path: Path, site: str) -> tuple[str, Path, Path]:
    """(nginx binary, main config, certificate): a minimal main config including the site, all under tmp_path."""
    nginx = tool("nginx", "nginx")
    crt, key = self_signed(tmp_path)
    site = site.replace("/etc/nginx/ssl/bot.example.gov.cn.crt", str(crt))
    site = site.replace("/etc/nginx/ssl/bot.example.gov.cn.key", str(key))
    (tmp_path / "ztbot.conf").write_text(site, encoding="utf-8")
    (tmp_path / "logs").mkdir(exist_ok=True)
    main_conf = tmp_path / "nginx.conf"
    main_conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  access_log {tmp_path}/logs/access.log;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/ztbot.conf;\n}}\n", encoding="utf-8")
    return nginx, main_conf, crt


def nginx_test(tmp_path: Path, site: str) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the site."""
    nginx, main_conf, _ = nginx_prefix(tmp_path, site)
    return subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(main_conf), "-e",
                           f"{tmp_path}/logs/error.log"], capture_output=True, text=True, timeout=60)


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    site = (DEPLOY / "nginx" / "ztbot.conf").read_text(encoding="utf-8")
    done = nginx_test(tmp_path, site)
    assert done.returncode == 0, done.stderr
    callback = site[site.index("location = /wecom/callback"):]
    callback = callback[:callback.index("}")]
    assert re.search(r"proxy_pass http://ztbot;", callback)  # no URI part: the query reaches the bot unchanged
    assert "ssl_certificate " in site and "return 301 https://" in site


def test_nginx_t_catches_a_broken_site(tmp_path: Path) -> None:
    site = (DEPLOY / "nginx" / "ztbot.conf").read_text(encoding="utf-8").replace("proxy_pass http://ztbot;",
                                                                                  "proxy_pass http://nowhere_upstream;", 1)
    assert nginx_test(tmp_path, site.replace("upstream ztbot {", "upstream ztbot_x {")).returncode != 0


def test_doctor_verifies_the_callback_through_the_nginx_site(tmp_path: Path, sqlite_template: Path) -> None:
    """The real site in front of the real app: the signed URL verification (echostr with "+" and "/")
    passes through unchanged over TLS; without trusting the certificate the doctor says TLS failed."""
    from app.doctor import run_checks
    from app.services import build_services
    from bot.testing.wecom_double import WeComDouble
    from bot.web.app import create_app
    from bot.wecom.sender import LogSender
    from tests.helpers_http import free_port, serving
    from tests.test_doctor import good_raw, settings_with

    with WeComDouble() as api:
        raw = good_raw(tmp_path, api, sqlite_template)
        services = build_services(settings_with(raw), sender=LogSender())
        try:
            with serving(create_app(services)) as base:
                tls, plain = free_port(), free_port()
                site = (DEPLOY / "nginx" / "ztbot.conf").read_text(encoding="utf-8")
                site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)  # no IPv6 on every CI runner
                site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{tls} ssl")
                site = site.replace("listen 80;", f"listen 127.0.0.1:{plain};")
                site = site.replace("server 127.0.0.1:8000;", f"server {base.removeprefix('http://')};")
                nginx, main_conf, crt = nginx_prefix(tmp_path, site)
                proc = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(main_conf), "-g", "daemon off;",
                                         "-e", f"{tmp_path}/logs/error.log"], stderr=subprocess.PIPE)
                try:
                    _wait_for_port(tls, proc)
                    url = f"https://127.0.0.1:{tls}/wecom/callback"
                    untrusted = {c.id: c for c in run_checks(settings_with(raw), public_url=url)}["callback"]
                    os.environ["REQUESTS_CA_BUNDLE"] = str(crt)
                    try:
                        checks = run_checks(settings_with(raw), public_url=url)
                        bare = {c.id: c for c in run_checks(settings_with(raw),
                                                            public_url=f"127.0.0.1:{tls}")}["callback"]
                    finally:
                        del os.environ["REQUESTS_CA_BUNDLE"]
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
        finally:
            services.close()
    found = {c.id: c for c in checks}
    assert found["callback"].status == "pass", found["callback"]
    assert bare.status == "pass"  # a bare host:port gets https:// and /wecom/callback
    assert untrusted.status == "fail" and "TLS 证书校验失败" in untrusted.detail and "self" in untrusted.detail
    assert "证书链" in untrusted.fix


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    import socket
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("nginx did not listen")


# ---------------------------------------------------------------- docker


def test_compose_file_wires_bot_postgres_redis_with_health_checks() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"bot", "db", "redis"}
    assert all("healthcheck" in s and s["healthcheck"]["test"] for s in services.values())
    assert {k: v["condition"] for k, v in services["bot"]["depends_on"].items()} == {
        "db": "service_healthy", "redis": "service_healthy"}
    mounted = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert mounted == set(compose["volumes"])  # every named volume declared, every declared one used
    build = services["bot"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert services["bot"]["ports"] == ["127.0.0.1:8000:8000"]  # only Nginx on the host faces the network
    assert services["bot"]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")


def dockerfile_steps() -> tuple[list[str], list[str]]:
    """(COPY sources, RUN commands) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    copies, runs = [], []
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == "COPY":
            copies += words[1:-1]
        elif words and words[0] == "RUN":
            runs.append(line.split(None, 1)[1])
    return copies, runs


def test_dockerfile_copies_what_exists_and_installs_the_pinned_requirements() -> None:
    copies, runs = dockerfile_steps()
    assert all((ROOT / src).exists() for src in copies if src != "."), copies
    assert "requirements.txt" in copies
    assert any("build.sh deps" in r for r in runs) and any("build.sh app" in r for r in runs)
    build = (DEPLOY / "docker" / "build.sh").read_text(encoding="utf-8")
    assert "-r requirements.txt" in build


@pytest.mark.skipif(os.environ.get("ZTBOT_SLOW") != "1", reason="installs every requirement (minutes): ZTBOT_SLOW=1")
def test_dockerfile_build_steps_in_a_fresh_venv(tmp_path: Path) -> None:
    """The image's build steps (build.sh deps, then app) in a fresh venv on a copy of the code."""
    src = tmp_path / "app"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "data", "__pycache__"))
    env = {**os.environ, "VENV": str(tmp_path / "venv")}
    for stage in ("deps", "app"):
        done = subprocess.run(["sh", "deploy/docker/build.sh", stage], cwd=src, env=env, capture_output=True,
                              text=True, timeout=1800)
        assert done.returncode == 0, (stage, done.stderr[-3000:])
