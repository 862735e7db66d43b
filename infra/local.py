"""Local services for development and tests: the "embedded default" way to run the platform.

Run it with the project's virtualenv interpreter, e.g. ``.venv/bin/python infra/local.py up``:

``start``   ensure PostgreSQL and Redis (machine services) are up and the database exists, and
            start SeaweedFS (S3 object store) and an aiosmtpd mail catcher writing a Maildir;
``up``      ``start``, migrate, seed demo data, start API and worker, wait for ``/health/ready``;
``status``  one line per service;
``stop``    stop what this script started (never PostgreSQL or Redis);
``env``     print the ``COMPETITION_*`` variables that point the app at these services.

Every process this script starts gets a pid file and a log file in the state directory
(``.local/`` in the repository, or ``COMPETITION_STATE_DIR``) and binds to 127.0.0.1 only. A service
whose pid is alive and whose port answers is left alone, so ``start`` and ``up`` are idempotent.
The S3 credentials default to fixed development values; they are only good for this loopback-only
store, and production sets its own ``COMPETITION_S3_ACCESS_KEY``/``COMPETITION_S3_SECRET_KEY``.

The module uses the standard library only (frozen dataclasses instead of msgspec Structs), so any
Python 3.11 can run it and the test plugin can import its functions to run a private SeaweedFS
without pulling in the app; the programs it starts (`weed`, `aiosmtpd`, `competition`) are looked
up next to the running interpreter, then in the repository's `.venv`, then on PATH. The one
exception is S3: its few requests (bucket creation, readiness) are signed with botocore's AWS
Signature Version 4 signer, imported when they are made; botocore comes with boto3 in the
`.venv` that runs this script (`make run`).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEV_S3_ACCESS_KEY = "competition-dev"
DEV_S3_SECRET_KEY = "competition-dev-secret"  # noqa: S105 - only valid for the loopback-only store
S3_REGION = "us-east-1"

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# SeaweedFS needs ~15 s for a graceful stop (its filer waits for open gRPC streams). A KILL loses
# no acknowledged write (it is in the OS page cache), so a short grace keeps `stop` quick.
DEFAULT_STOP_GRACE = 5.0
LOG_TAIL_LINES = 40

# Processes started from this interpreter, so their exit is noticed (and reaped) via poll()
# instead of lingering as zombies that still look alive to kill(pid, 0).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ServiceError(RuntimeError):
    """A service could not be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Managed:
    """A background process started (or found running) by this module."""

    name: str
    pid: int
    port: int | None
    log_path: Path
    pid_path: Path
    started: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SeaweedPorts:
    """Every port one SeaweedFS `server` listens on, all explicit so instances never collide."""

    s3: int
    s3_grpc: int
    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int

    def all(self) -> tuple[int, ...]:
        return (
            self.s3,
            self.s3_grpc,
            self.master,
            self.master_grpc,
            self.volume,
            self.volume_grpc,
            self.filer,
            self.filer_grpc,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalConfig:
    """Where the app's services live, read from `COMPETITION_*` variables with local defaults."""

    state_dir: Path
    database_url: str
    redis_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str
    smtp_host: str
    smtp_port: int
    public_url: str
    api_port: int


def load_config(*, environ: Mapping[str, str]) -> LocalConfig:
    """Read the configuration; unset or empty variables take the local defaults."""

    def get(name: str, default: str) -> str:
        return environ.get(f"COMPETITION_{name}") or default

    api_port = int(get("API_PORT", "8000"))
    state = get("STATE_DIR", "")
    return LocalConfig(
        state_dir=Path(state).resolve() if state else REPO_ROOT / ".local",
        database_url=get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/competition"),
        redis_url=get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        s3_endpoint=get("S3_ENDPOINT", "http://127.0.0.1:8333"),
        s3_access_key=get("S3_ACCESS_KEY", DEV_S3_ACCESS_KEY),
        s3_secret_key=get("S3_SECRET_KEY", DEV_S3_SECRET_KEY),
        s3_bucket=get("S3_BUCKET", "competition"),
        smtp_host=get("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(get("SMTP_PORT", "1025")),
        public_url=get("PUBLIC_URL", f"http://127.0.0.1:{api_port}"),
        api_port=api_port,
    )


def ensure_secret_key(*, state_dir: Path) -> str:
    """Return the app secret kept in `<state>/secret_key`, creating it (mode 0600) on first use."""
    path = state_dir / "secret_key"
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key + "\n")
    return key


def app_environment(*, config: LocalConfig, secret_key: str) -> dict[str, str]:
    """The `COMPETITION_*` variables that point the app at the configured services."""
    return {
        "COMPETITION_DATABASE_URL": config.database_url,
        "COMPETITION_REDIS_URL": config.redis_url,
        "COMPETITION_S3_ENDPOINT": config.s3_endpoint,
        "COMPETITION_S3_ACCESS_KEY": config.s3_access_key,
        "COMPETITION_S3_SECRET_KEY": config.s3_secret_key,
        "COMPETITION_S3_BUCKET": config.s3_bucket,
        "COMPETITION_SMTP_HOST": config.smtp_host,
        "COMPETITION_SMTP_PORT": str(config.smtp_port),
        "COMPETITION_PUBLIC_URL": config.public_url,
        "COMPETITION_API_PORT": str(config.api_port),
        "COMPETITION_SECRET_KEY": secret_key,
    }


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(count=1)[0]


def free_ports(*, count: int) -> list[int]:
    """`count` distinct free ports; the sockets stay open until all are chosen so none repeats."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_open(*, host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited process whose parent has not reaped it yet still accepts signal 0.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _is_ours(pid: int, marker: str) -> bool:
    # A pid from an old pid file may have been reused by an unrelated process after a reboot.
    return pid_alive(pid) and any(marker in part for part in _cmdline(pid))


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        # Processes started here lead their own session; signalling the group also reaches
        # any children they spawned (e.g. uvicorn workers).
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_processes(pids: Sequence[int], *, grace: float = DEFAULT_STOP_GRACE) -> None:
    """Send TERM to all `pids`, wait up to `grace` seconds, then KILL those still alive."""
    alive = [pid for pid in pids if pid_alive(pid)]
    for pid in alive:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if pid_alive(pid)]
    for pid in alive:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if pid_alive(pid)]
    if alive:
        raise ServiceError(f"Prozess(e) {alive} laufen trotz SIGKILL weiter.")


def stop_process(pid: int, *, grace: float = DEFAULT_STOP_GRACE) -> None:
    """Stop one process: TERM, wait up to `grace` seconds, then KILL."""
    stop_processes([pid], grace=grace)


def log_tail(path: Path, *, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(kein Log vorhanden)"
    return "\n".join(text.splitlines()[-lines:])


def _read_pid(pid_path: Path) -> int | None:
    try:
        return int(pid_path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _running(pid_path: Path, marker: str) -> int | None:
    """The pid recorded in `pid_path` if that process is still ours; stale files are removed."""
    pid = _read_pid(pid_path)
    if pid is not None and _is_ours(pid, marker):
        return pid
    pid_path.unlink(missing_ok=True)
    return None


def _spawn(
    *,
    name: str,
    argv: Sequence[str],
    state_dir: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[int, Path, Path]:
    """Start `argv` detached in its own session, with pid file and log file in `state_dir`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / f"{name}.log"
    pid_path = state_dir / f"{name}.pid"
    if log_path.exists():
        # Keep the previous run's log, so a crash before a restart can still be read.
        log_path.replace(state_dir / f"{name}.log.1")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ if env is None else env),
            cwd=cwd,
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    pid_path.write_text(f"{proc.pid}\n", encoding="utf-8")
    return proc.pid, log_path, pid_path


def find_binary(name: str) -> str:
    """`name` next to the running interpreter, else in the repository's venv, else on PATH."""
    for directory in (Path(sys.executable).parent, REPO_ROOT / ".venv" / "bin"):
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ServiceError(
            f"Programm {name!r} nicht gefunden (weder neben {sys.executable} noch in "
            f"{REPO_ROOT / '.venv' / 'bin'} noch im PATH). "
            "Abhängigkeiten installieren: uv sync"
        )
    return found


def _wait(
    *,
    name: str,
    ready: Callable[[], bool],
    pid: int,
    log_path: Path,
    timeout: float,
) -> None:
    """Poll `ready()` until it is true; fail early if the process dies, with the log tail."""
    deadline = time.monotonic() + timeout
    while True:
        if not pid_alive(pid):
            raise ServiceError(
                f"{name} (pid {pid}) hat sich beendet. Log {log_path}:\n{log_tail(log_path)}"
            )
        if ready():
            return
        if time.monotonic() > deadline:
            raise ServiceError(
                f"{name} (pid {pid}) ist nach {timeout:.0f} s nicht bereit. "
                f"Log {log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(0.2)


# --- S3 (SeaweedFS) --------------------------------------------------------------------------


def s3_request(
    *,
    endpoint: str,
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    body: bytes = b"",
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    """One path-style S3 request signed by botocore (AWS Signature Version 4); (status, body)."""
    # botocore comes with boto3 in the project's .venv, which runs this script; importing it here
    # keeps the commands that need no S3 runnable by any Python 3.11.
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = urllib.parse.urlsplit(endpoint)
    if url.scheme not in {"http", "https"} or url.hostname is None:
        raise ServiceError(f"Ungültiger S3-Endpunkt: {endpoint!r}")
    target = urllib.parse.quote(path, safe="/-_.~")
    request = AWSRequest(method=method, url=f"{url.scheme}://{url.netloc}{target}", data=body)
    # S3's variant of SigV4Auth: it also sends the payload hash as x-amz-content-sha256, which S3
    # requires. http.client adds the Host header that the signature covers.
    S3SigV4Auth(Credentials(access_key, secret_key), "s3", S3_REGION).add_auth(request)
    conn_class = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_class(url.hostname, url.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=dict(request.headers.items()))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def ensure_bucket(*, endpoint: str, access_key: str, secret_key: str, bucket: str) -> bool:
    """Create `bucket` unless it exists; True if it was created."""
    try:
        status, _ = s3_request(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            method="HEAD",
            path=f"/{bucket}",
        )
        if status == 200:
            return False
        status, body = s3_request(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            method="PUT",
            path=f"/{bucket}",
        )
    except (OSError, http.client.HTTPException) as exc:
        raise ServiceError(f"S3 auf {endpoint} nicht erreichbar: {exc}") from exc
    if status != 200:
        raise ServiceError(
            f"Bucket {bucket!r} auf {endpoint} nicht angelegt: HTTP {status} "
            f"{body.decode(errors='replace')[:500]}"
        )
    return True


def _s3_ready(*, endpoint: str, access_key: str, secret_key: str, master_port: int) -> bool:
    """ListBuckets answers 200 and a volume server has joined (else the first PUT fails)."""
    try:
        status, _ = s3_request(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            method="GET",
            path="/",
            timeout=2.0,
        )
        if status != 200:
            return False
        url = f"http://127.0.0.1:{master_port}/dir/status"
        with urllib.request.urlopen(url, timeout=2.0) as response:
            topology = json.load(response)["Topology"]
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return False
    return bool(topology.get("Max", 0) > 0)


def _seaweedfs_ports(*, root: Path, s3_port: int) -> SeaweedPorts:
    """The store's ports: chosen once and kept, because the master's raft state records them."""
    path = root / "ports.json"
    ports: SeaweedPorts | None
    try:
        ports = SeaweedPorts(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        ports = None
    if ports is None or s3_port in ports.all()[1:]:
        others = [p for p in free_ports(count=8) if p != s3_port][:7]
        ports = SeaweedPorts(
            s3=s3_port,
            s3_grpc=others[0],
            master=others[1],
            master_grpc=others[2],
            volume=others[3],
            volume_grpc=others[4],
            filer=others[5],
            filer_grpc=others[6],
        )
    elif ports.s3 != s3_port:
        ports = replace(ports, s3=s3_port)
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(ports)) + "\n", encoding="utf-8")
    return ports


def _write_s3_config(*, path: Path, access_key: str, secret_key: str) -> None:
    config = {
        "identities": [
            {
                "name": "competition",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    # The file holds the secret key: create it private instead of chmod-ing it afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)


def remove_seaweedfs_sockets(*, ports: SeaweedPorts) -> None:
    """Delete the Unix sockets a killed SeaweedFS leaves behind for these ports."""
    # SeaweedFS hard-codes /tmp for them (not $TMPDIR), named after the port they shadow.
    for port in ports.all():
        for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):  # noqa: S108
            if sock.is_socket():
                sock.unlink(missing_ok=True)


def start_seaweedfs(
    *,
    state_dir: Path,
    s3_port: int,
    access_key: str,
    secret_key: str,
    timeout: float = 60.0,
) -> Managed:
    """Start (or find running) a single-node SeaweedFS with S3 on 127.0.0.1:`s3_port`.

    Data, config and ports live in `<state_dir>/seaweedfs/`; pid and log files are
    `<state_dir>/seaweedfs.pid` and `.log`. Returns once ListBuckets works and a volume server
    has joined, so the first upload succeeds.
    """
    root = state_dir / "seaweedfs"
    pid_path = state_dir / "seaweedfs.pid"
    log_path = state_dir / "seaweedfs.log"
    endpoint = f"http://127.0.0.1:{s3_port}"
    pid = _running(pid_path, "weed")
    ports = _seaweedfs_ports(root=root, s3_port=s3_port)

    def ready() -> bool:
        return _s3_ready(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            master_port=ports.master,
        )

    if pid is not None:
        _wait(name="seaweedfs", ready=ready, pid=pid, log_path=log_path, timeout=timeout)
        return Managed(
            name="seaweedfs",
            pid=pid,
            port=s3_port,
            log_path=log_path,
            pid_path=pid_path,
            started=False,
        )
    if port_open(host="127.0.0.1", port=s3_port):
        raise ServiceError(
            f"SeaweedFS kann nicht starten: Port {s3_port} ist schon belegt. "
            "Anderen S3-Port über COMPETITION_S3_ENDPOINT wählen."
        )
    busy = [p for p in ports.all() if port_open(host="127.0.0.1", port=p)]
    if busy:
        raise ServiceError(
            f"SeaweedFS kann nicht starten: interne Port(s) {busy} sind schon belegt. "
            f"{root / 'ports.json'} löschen, dann werden neue gewählt."
        )
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    s3_config = root / "s3.json"
    _write_s3_config(path=s3_config, access_key=access_key, secret_key=secret_key)
    argv = [
        find_binary("weed"),
        "server",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-filer",
        "-s3",
        f"-s3.port={ports.s3}",
        f"-s3.port.grpc={ports.s3_grpc}",
        f"-s3.config={s3_config}",
        "-master.telemetry=false",
        f"-master.port={ports.master}",
        f"-master.port.grpc={ports.master_grpc}",
        f"-volume.port={ports.volume}",
        f"-volume.port.grpc={ports.volume_grpc}",
        f"-filer.port={ports.filer}",
        f"-filer.port.grpc={ports.filer_grpc}",
        # Extra listeners on fixed default ports would collide between instances.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        # Small volumes, a fixed count: the default 30 GB volumes and disk-derived count let a
        # few buckets exhaust the store.
        "-master.volumeSizeLimitMB=256",
        "-volume.max=64",
        "-volume.preStopSeconds=0",
        "-master.electionTimeout=1s",
    ]
    env = dict(os.environ)
    # One new volume per bucket instead of seven (SeaweedFS reads master.toml keys from WEED_*).
    env["WEED_MASTER_VOLUME_GROWTH_COPY_1"] = "1"
    pid, log_path, pid_path = _spawn(
        name="seaweedfs", argv=argv, state_dir=state_dir, env=env, cwd=root
    )
    try:
        _wait(name="seaweedfs", ready=ready, pid=pid, log_path=log_path, timeout=timeout)
    except ServiceError:
        stop_process(pid, grace=1.0)
        pid_path.unlink(missing_ok=True)
        raise
    return Managed(
        name="seaweedfs",
        pid=pid,
        port=s3_port,
        log_path=log_path,
        pid_path=pid_path,
        started=True,
    )


def _saved_ports(state_dir: Path) -> SeaweedPorts | None:
    try:
        saved = json.loads((state_dir / "seaweedfs" / "ports.json").read_text(encoding="utf-8"))
        return SeaweedPorts(**saved)
    except (OSError, ValueError, TypeError):
        return None


def stop_seaweedfs(*, state_dir: Path, grace: float = DEFAULT_STOP_GRACE) -> int | None:
    """Stop the SeaweedFS recorded in `state_dir`; returns its pid, None if none was running."""
    pid = _running(state_dir / "seaweedfs.pid", "weed")
    if pid is None:
        return None
    stop_process(pid, grace=grace)
    (state_dir / "seaweedfs.pid").unlink(missing_ok=True)
    ports = _saved_ports(state_dir)
    if ports is not None:
        remove_seaweedfs_sockets(ports=ports)
    return pid


# --- mail catcher ----------------------------------------------------------------------------


def _smtp_ready(*, port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            banner = sock.recv(512)
            sock.sendall(b"QUIT\r\n")
    except OSError:
        return False
    return banner.startswith(b"220")


def start_mail_catcher(*, state_dir: Path, port: int, timeout: float = 20.0) -> Managed:
    """Start (or find running) aiosmtpd on 127.0.0.1:`port`, storing every mail it accepts.

    Mails land in the Maildir `<state_dir>/mail/` (one file per mail in `mail/new/`, readable
    with any text viewer or `mutt -f`), with the envelope in `X-MailFrom`/`X-RcptTo` headers.
    """
    pid_path = state_dir / "mail.pid"
    log_path = state_dir / "mail.log"
    pid = _running(pid_path, "aiosmtpd")

    def ready() -> bool:
        return _smtp_ready(port=port)

    if pid is not None:
        _wait(name="mail", ready=ready, pid=pid, log_path=log_path, timeout=timeout)
        return Managed(
            name="mail", pid=pid, port=port, log_path=log_path, pid_path=pid_path, started=False
        )
    if port_open(host="127.0.0.1", port=port):
        raise ServiceError(
            f"Mail-Catcher kann nicht starten: Port {port} ist schon belegt. "
            "Anderen Port über COMPETITION_SMTP_PORT wählen."
        )
    mail_dir = state_dir / "mail"
    argv = [
        find_binary("aiosmtpd"),
        "-n",  # never try to switch to user `nobody`: the Maildir belongs to the caller
        "-l",
        f"127.0.0.1:{port}",
        "-c",
        "aiosmtpd.handlers.Mailbox",
        str(mail_dir),
    ]
    pid, log_path, pid_path = _spawn(name="mail", argv=argv, state_dir=state_dir)
    try:
        _wait(name="mail", ready=ready, pid=pid, log_path=log_path, timeout=timeout)
    except ServiceError:
        stop_process(pid, grace=1.0)
        pid_path.unlink(missing_ok=True)
        raise
    return Managed(
        name="mail", pid=pid, port=port, log_path=log_path, pid_path=pid_path, started=True
    )


# --- machine services (PostgreSQL, Redis) ----------------------------------------------------


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _wait_port(*, name: str, host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host=host, port=port):
        if time.monotonic() > deadline:
            raise ServiceError(f"{name} antwortet nach {timeout:.0f} s nicht auf {host}:{port}.")
        time.sleep(0.2)


def _run(argv: Sequence[str], *, stdin: str | None = None) -> str:
    try:
        result = subprocess.run(
            list(argv), input=stdin, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServiceError(f"{shlex.join(argv)} ist fehlgeschlagen: {exc}") from exc
    if result.returncode != 0:
        raise ServiceError(
            f"{shlex.join(argv)} ist fehlgeschlagen ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}".rstrip()
        )
    return result.stdout


def ensure_postgres(*, database_url: str) -> bool:
    """Start the local PostgreSQL cluster if its port refuses; True if it had to be started."""
    host, port = _host_port(database_url, 5432)
    if port_open(host=host, port=port):
        return False
    if host not in LOOPBACK_HOSTS:
        raise ServiceError(f"PostgreSQL auf {host}:{port} ist nicht erreichbar.")
    versions = sorted(
        (p.name for p in Path("/etc/postgresql").glob("*") if p.name.isdigit()), key=int
    )
    if not versions:
        raise ServiceError("PostgreSQL läuft nicht und kein Cluster unter /etc/postgresql.")
    _run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"])
    _wait_port(name="PostgreSQL", host=host, port=port, timeout=30.0)
    return True


def ensure_redis(*, redis_url: str) -> bool:
    """Start a local Redis if its port refuses; True if it had to be started."""
    host, port = _host_port(redis_url, 6379)
    if port_open(host=host, port=port):
        return False
    if host not in LOOPBACK_HOSTS:
        raise ServiceError(f"Redis auf {host}:{port} ist nicht erreichbar.")
    _run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
    )
    _wait_port(name="Redis", host=host, port=port, timeout=15.0)
    return True


def ensure_database(*, database_url: str) -> bool:
    """Create the database named in `database_url` unless it exists; True if it was created."""
    parts = urllib.parse.urlsplit(database_url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    if not name:
        raise ServiceError(f"COMPETITION_DATABASE_URL nennt keine Datenbank: {database_url!r}")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    # psql variables (:'db', :"db") quote the name, so no SQL is built from the URL.
    psql = [
        "psql",
        "-X",
        "-q",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        f"db={name}",
        "-d",
        admin_url,
        "-f",
        "-",
    ]
    exists = _run(psql, stdin="SELECT 1 FROM pg_database WHERE datname = :'db';\n")
    if exists.strip() == "1":
        return False
    _run(psql, stdin='CREATE DATABASE :"db";\n')
    return True


# --- commands --------------------------------------------------------------------------------

# Processes `stop` ends, in order: the app before the services it uses.
APP_PROCESSES = ("api", "worker")
SERVICE_PROCESSES = ("seaweedfs", "mail")
MARKERS = {"api": "competition", "worker": "competition", "seaweedfs": "weed", "mail": "aiosmtpd"}


def _is_local(host: str | None) -> bool:
    return host in LOOPBACK_HOSTS


def _s3_port(config: LocalConfig) -> int:
    return _host_port(config.s3_endpoint, 80)[1]


def _display(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def _report(managed: Managed, where: str) -> None:
    verb = "gestartet" if managed.started else "läuft bereits"
    print(
        f"{managed.name:<11} {verb} (pid {managed.pid}, {where}, Log {_display(managed.log_path)})"
    )


def cmd_machine(config: LocalConfig) -> None:
    """PostgreSQL and Redis, the machine's own services: start them only when they are down."""
    db_host, db_port = _host_port(config.database_url, 5432)
    verb = "gestartet" if ensure_postgres(database_url=config.database_url) else "läuft"
    print(f"{'postgresql':<11} {verb} ({db_host}:{db_port})")
    redis_host, redis_port = _host_port(config.redis_url, 6379)
    verb = "gestartet" if ensure_redis(redis_url=config.redis_url) else "läuft"
    print(f"{'redis':<11} {verb} ({redis_host}:{redis_port})")


def cmd_start(config: LocalConfig) -> None:
    """Ensure every service the app needs is up; leave running ones alone."""
    cmd_machine(config)
    db_name = urllib.parse.urlsplit(config.database_url).path.lstrip("/")
    verb = "angelegt" if ensure_database(database_url=config.database_url) else "vorhanden"
    print(f"{'database':<11} {db_name} {verb}")

    s3 = urllib.parse.urlsplit(config.s3_endpoint)
    if _is_local(s3.hostname) and s3.scheme == "http":
        managed = start_seaweedfs(
            state_dir=config.state_dir,
            s3_port=_s3_port(config),
            access_key=config.s3_access_key,
            secret_key=config.s3_secret_key,
        )
        _report(managed, config.s3_endpoint)
        created = ensure_bucket(
            endpoint=config.s3_endpoint,
            access_key=config.s3_access_key,
            secret_key=config.s3_secret_key,
            bucket=config.s3_bucket,
        )
        print(f"{'bucket':<11} {config.s3_bucket} {'angelegt' if created else 'vorhanden'}")
    else:
        print(f"{'seaweedfs':<11} nicht gestartet: S3 ist extern ({config.s3_endpoint})")

    if _is_local(config.smtp_host):
        managed = start_mail_catcher(state_dir=config.state_dir, port=config.smtp_port)
        _report(managed, f"smtp://127.0.0.1:{config.smtp_port}")
    else:
        print(f"{'mail':<11} nicht gestartet: SMTP ist extern ({config.smtp_host})")


def _health_ready(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/health/ready"
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):
        return False


def cmd_up(config: LocalConfig) -> None:
    """`start`, then migrate, seed the demo data and run API and worker in the background."""
    cmd_start(config)
    env = dict(os.environ) | app_environment(
        config=config, secret_key=ensure_secret_key(state_dir=config.state_dir)
    )
    competition = find_binary("competition")
    for step in ("migrate", "seed-demo"):
        # Output passes through: seed-demo prints the demo logins.
        result = subprocess.run([competition, step], env=env, check=False, timeout=600)
        if result.returncode != 0:
            raise ServiceError(f"`competition {step}` ist fehlgeschlagen ({result.returncode}).")

    state = config.state_dir
    api_pid = _running(state / "api.pid", MARKERS["api"])
    if api_pid is None:
        if port_open(host="127.0.0.1", port=config.api_port):
            raise ServiceError(
                f"Port {config.api_port} ist schon belegt. "
                "Anderen Port über COMPETITION_API_PORT wählen."
            )
        argv = [competition, "api", "--host", "127.0.0.1", "--port", str(config.api_port)]
        api_pid, _, _ = _spawn(name="api", argv=argv, state_dir=state, env=env)
        print(f"{'api':<11} gestartet (pid {api_pid})")
    else:
        print(f"{'api':<11} läuft bereits (pid {api_pid}); neu starten: erst `stop`")
    worker_pid = _running(state / "worker.pid", MARKERS["worker"])
    if worker_pid is None:
        worker_pid, _, _ = _spawn(
            name="worker", argv=[competition, "worker"], state_dir=state, env=env
        )
        print(f"{'worker':<11} gestartet (pid {worker_pid})")
    else:
        print(f"{'worker':<11} läuft bereits (pid {worker_pid})")

    _wait(
        name="api",
        ready=lambda: _health_ready(config.api_port),
        pid=api_pid,
        log_path=state / "api.log",
        timeout=90.0,
    )
    if not pid_alive(worker_pid):
        log_path = state / "worker.log"
        raise ServiceError(f"worker hat sich beendet. Log {log_path}:\n{log_tail(log_path)}")
    base = f"http://127.0.0.1:{config.api_port}"
    here = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path(__file__)
    stop_hint = f"{_display(Path(sys.executable))} {_display(here.resolve())} stop"
    print()
    print("Die Plattform läuft.")
    print(f"  API:           {base}")
    print(f"  API-Doku:      {base}/schema")
    print(f"  Öffentlich:    {config.public_url}")
    if _is_local(config.smtp_host):
        mail_dir = _display(state / "mail" / "new")
        print(f"  E-Mails:       abgefangen in {mail_dir}/ (eine Datei pro Mail)")
    print(f"  Logs:          {_display(state)}/*.log")
    print(f"  Beenden:       {stop_hint}")


def _status_line(name: str, *, running: bool, pid: int | None, port: int | None) -> str:
    return (
        f"{name:<11} {'läuft' if running else 'gestoppt':<9} "
        f"pid {pid if pid is not None else '-':<8} port {port if port is not None else '-'}"
    )


def status_lines(config: LocalConfig) -> list[str]:
    """One line per service: state, pid (for processes this script manages), port."""
    lines = []
    for name, url, default in (
        ("postgresql", config.database_url, 5432),
        ("redis", config.redis_url, 6379),
    ):
        host, port = _host_port(url, default)
        lines.append(
            _status_line(name, running=port_open(host=host, port=port), pid=None, port=port)
        )
    ports: dict[str, int | None] = {
        "seaweedfs": _s3_port(config),
        "mail": config.smtp_port,
        "api": config.api_port,
        "worker": None,
    }
    for name in (*SERVICE_PROCESSES, *APP_PROCESSES):
        pid = _read_pid(config.state_dir / f"{name}.pid")
        alive = pid is not None and _is_ours(pid, MARKERS[name])
        listen = ports[name]
        running = alive and (listen is None or port_open(host="127.0.0.1", port=listen))
        lines.append(_status_line(name, running=running, pid=pid if alive else None, port=listen))
    return lines


def cmd_stop(config: LocalConfig, *, grace: float = DEFAULT_STOP_GRACE) -> None:
    """Stop api, worker, SeaweedFS and the mail catcher by pid; PostgreSQL and Redis stay up."""
    stopped = False
    for group in (APP_PROCESSES, SERVICE_PROCESSES):
        pids = {
            name: pid
            for name in group
            if (pid := _running(config.state_dir / f"{name}.pid", MARKERS[name])) is not None
        }
        stop_processes(list(pids.values()), grace=grace)
        for name, pid in pids.items():
            (config.state_dir / f"{name}.pid").unlink(missing_ok=True)
            print(f"{name:<11} gestoppt (pid {pid})")
            stopped = True
        ports = _saved_ports(config.state_dir)
        if "seaweedfs" in pids and ports is not None:
            remove_seaweedfs_sockets(ports=ports)
    if not stopped:
        print("Nichts zu stoppen.")


def cmd_env(config: LocalConfig) -> None:
    """Print `export` lines for a shell: `eval "$(python infra/local.py env)"`."""
    env = app_environment(config=config, secret_key=ensure_secret_key(state_dir=config.state_dir))
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="infra/local.py",
        description="Lokale Dienste für Industrie. Neu. Denken. (Entwicklung und Tests)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start", help="PostgreSQL, Redis, SeaweedFS und Mail-Catcher sicherstellen")
    sub.add_parser("up", help="start + migrate + Demo-Daten + API und Worker")
    sub.add_parser("machine", help="nur PostgreSQL und Redis sicherstellen (für die Tests)")
    sub.add_parser("status", help="Zustand aller Dienste")
    sub.add_parser("stop", help="API, Worker, SeaweedFS und Mail-Catcher stoppen")
    sub.add_parser("env", help="COMPETITION_*-Variablen als export-Zeilen ausgeben")
    args = parser.parse_args(argv)
    config = load_config(environ=os.environ)
    try:
        if args.command == "start":
            cmd_start(config)
        elif args.command == "machine":
            cmd_machine(config)
        elif args.command == "up":
            cmd_up(config)
        elif args.command == "status":
            print("\n".join(status_lines(config)))
        elif args.command == "stop":
            cmd_stop(config)
        else:
            cmd_env(config)
    except ServiceError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
