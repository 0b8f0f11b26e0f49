"""Every command into every expected failure: one line on stderr, the documented exit code,
never a traceback.

The failures are made the way a user meets them: no region configured, no credentials,
an endpoint that does not answer (a closed port on 127.0.0.1), and AWS answering
AccessDenied or "stack does not exist" (a small HTTP server on 127.0.0.1 speaking the
CloudFormation and X-Ray wire protocols, so botocore parses a real error response). The
matrix runs in process (fast); one command per failure runs as a subprocess too, and the
whole matrix as subprocesses is `slow`.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cli.errors import ExitCode
from cli.main import main
from contracts import MAX_QUERY_LENGTH

ROOT = Path(__file__).resolve().parents[3]
GOOD_SQL = 'SELECT endpoint_id AS "Id" FROM email_open'

COMMANDS = {
    "catalog list": ["catalog", "list", "--stack", "demo"],
    "catalog backfill": ["catalog", "backfill", "--stack", "demo"],
    "query submit": ["query", "submit", "--stack", "demo", "--sql", "{sql}"],
    "query check": ["query", "check", "--stack", "demo", "--sql", "{sql}"],
    "runs show": ["runs", "show", "run-1", "--stack", "demo"],
    "runs list": ["runs", "list", "--stack", "demo"],
    "trace": ["trace", "run-1"],
}
# The text each failure's line carries (what is wrong), all with exit code 3.
FAILURES = {
    "no_region": "no AWS region",
    "no_credentials": "no usable AWS credentials",
    "unreachable": "AWS does not answer",
    "access_denied": "AWS denied",
    "no_stack": "no stack 'demo'",
}


class FakeAws(BaseHTTPRequestHandler):
    """Answers every call with the error of its mode, in the caller's protocol."""

    mode = "access_denied"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if body.startswith(b"Action="):  # CloudFormation: the query protocol, XML errors
            code, status, message = (
                ("ValidationError", 400, "Stack with id demo does not exist")
                if self.mode == "no_stack"
                else (
                    "AccessDenied",
                    403,
                    "User: arn:aws:iam::123456789012:user/u is not "
                    "authorized to perform: cloudformation:DescribeStacks",
                )
            )
            payload = (
                '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
                f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>r-1</RequestId></ErrorResponse>"
            ).encode()
            self._answer(status, payload, {"Content-Type": "text/xml"})
            return
        denied = json.dumps({"message": "not authorized to perform: xray:GetTraceSummaries"})
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}
        self._answer(403, denied.encode(), headers)

    def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """Quiet: the test reads the CLI's output, not the server's."""


@pytest.fixture(scope="module")
def fake_aws() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(failure: str, tmp_path: Path, fake_aws: str) -> dict[str, str]:
    """A user's environment that fails the way `failure` says (nothing from this machine)."""
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata credentials either
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
    }
    if failure == "no_region":
        return env
    env["AWS_DEFAULT_REGION"] = "eu-west-1"
    if failure == "no_credentials":
        return env
    env |= {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    if failure == "unreachable":
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{_closed_port()}"
        return env
    FakeAws.mode = failure
    env["AWS_ENDPOINT_URL"] = fake_aws
    return env


def _argv(command: str, sql: Path) -> list[str]:
    return [part.replace("{sql}", str(sql)) for part in COMMANDS[command]]


def _cases() -> list[tuple[str, str]]:
    return [
        (command, failure)
        for command in COMMANDS
        for failure in FAILURES
        if not (failure == "no_stack" and "--stack" not in COMMANDS[command])
    ]


@pytest.fixture
def sql(tmp_path: Path) -> Path:
    path = tmp_path / "query.sql"
    path.write_text(GOOD_SQL)
    return path


@pytest.fixture
def user_environment(
    tmp_path: Path, fake_aws: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], None]:
    """Make this process's environment the failing user's (nothing of this machine's)."""

    def use(failure: str) -> None:
        for name in (
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
        ):
            monkeypatch.delenv(name, raising=False)
        for name, value in environment(failure, tmp_path, fake_aws).items():
            if name not in {"PATH", "HOME"}:
                monkeypatch.setenv(name, value)

    return use


@pytest.mark.loopback
@pytest.mark.parametrize(("command", "failure"), _cases())
def test_each_command_explains_each_failure(
    command: str,
    failure: str,
    sql: Path,
    user_environment: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    user_environment(failure)

    code = main(_argv(command, sql))

    out, err = capsys.readouterr()
    assert code == ExitCode.AWS, err
    assert err.startswith("error: ")
    assert FAILURES[failure] in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI, with arguments the test chose
        [sys.executable, "-m", "cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_explained(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == code, result.stderr
    assert text in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.loopback
@pytest.mark.parametrize(
    ("command", "failure"),
    [
        ("runs show", "no_region"),
        ("catalog list", "no_credentials"),
        ("query submit", "unreachable"),
        ("trace", "access_denied"),
        ("runs list", "no_stack"),
    ],
)
def test_as_a_subprocess(
    command: str, failure: str, sql: Path, tmp_path: Path, fake_aws: str
) -> None:
    result = _run(_argv(command, sql), environment(failure, tmp_path, fake_aws))
    _assert_explained(result, ExitCode.AWS, FAILURES[failure])


@pytest.mark.slow
@pytest.mark.loopback
@pytest.mark.parametrize(("command", "failure"), _cases())
def test_every_command_into_every_failure_as_a_subprocess(
    command: str, failure: str, sql: Path, tmp_path: Path, fake_aws: str
) -> None:
    result = _run(_argv(command, sql), environment(failure, tmp_path, fake_aws))
    _assert_explained(result, ExitCode.AWS, FAILURES[failure])


# --- input the validator would refuse: said before anything is published -------------------


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["--run-id", "my run"], "run_id"),
        (["--run-id", "x" * 65], "run_id"),
    ],
)
def test_submit_checks_the_request_s_contract_before_reading_the_stack(
    argv: list[str], text: str, sql: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No socket may open in a unit test: the refusal comes before any AWS call.
    code = main(["query", "submit", "--stack", "demo", "--sql", str(sql), *argv])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert text in err
    assert "Nothing was published" in err


def test_a_query_over_the_validator_s_size_limit_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.sql"
    big.write_text(GOOD_SQL + " -- " + "x" * MAX_QUERY_LENGTH)
    assert main(["query", "submit", "--stack", "demo", "--sql", str(big)]) == ExitCode.USAGE
    assert f"{MAX_QUERY_LENGTH}" in capsys.readouterr().err
    # query check answers with the validator's own code for it.
    assert main(["query", "check", "--sql", str(big), "--json"]) == ExitCode.FAILED
    verdict = json.loads(capsys.readouterr().out)
    assert [reason["code"] for reason in verdict["reasons"]] == ["QUERY_TOO_LONG"]


def test_sql_files_in_other_encodings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, data in {
        "bom.sql": "\ufeff".encode() + GOOD_SQL.encode(),
        "utf16.sql": GOOD_SQL.encode("utf-16"),
        "utf16be.sql": b"\xfe\xff" + GOOD_SQL.encode("utf-16-be"),
    }.items():
        (tmp_path / name).write_bytes(data)
        assert main(["query", "check", "--sql", str(tmp_path / name)]) == 0, name
        assert "accepted" in capsys.readouterr().out
    latin = tmp_path / "latin.sql"
    latin.write_bytes(GOOD_SQL.replace("email_open", "café").encode("latin-1"))
    assert main(["query", "check", "--sql", str(latin)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "is not UTF-8" in err
    assert "save it as UTF-8" in err


def test_a_sql_file_that_is_not_utf8_as_a_subprocess(tmp_path: Path) -> None:
    latin = tmp_path / "latin.sql"
    latin.write_bytes("SELECT 'é' AS \"Id\"".encode("latin-1"))
    result = _run(["query", "submit", "--stack", "demo", "--sql", str(latin)], {"PATH": "/bin"})
    _assert_explained(result, ExitCode.USAGE, "is not UTF-8")


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["demo", "--endpoints", "-3"], "-3 is less than 1"),
        (["demo", "--endpoints", "many"], "'many' is not a whole number"),
        (["trace", "r", "--hours", "0"], "0 is less than 1"),
        (["runs", "list", "--limit", "0"], "0 is less than 1"),
    ],
)
def test_numeric_options_are_checked(
    argv: list[str], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == ExitCode.USAGE
    assert text in capsys.readouterr().err


def test_json_is_accepted_before_the_command_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "graph"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)
    assert main(["graph", "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)


def test_a_bug_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cli.graph

    def broken() -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli.graph, "edges", broken)
    assert main(["graph"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected ZeroDivisionError")
    assert "Traceback" not in err
