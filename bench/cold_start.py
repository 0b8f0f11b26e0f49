"""Benchmark 5: cold start, as the time to import each Lambda handler module.

Each measurement is a fresh Python process started the way Lambda starts one, from the
built artifact (`infra.package`, the same build as `make package`, for this interpreter):
the artifact's `code/` directory is the task root, the only entry of `PYTHONPATH` and the
working directory, site-packages are off (`-S`), nothing writes bytecode (Lambda's file
system is read-only), and the environment is the function's, resolved from
`infra/template.yaml` (its `Handler`, `POWERTOOLS_SERVICE_NAME`, the table and bus
names...) plus the variables the Lambda runtime sets (`LAMBDA_TASK_ROOT`,
`AWS_EXECUTION_ENV`, `_X_AMZN_TRACE_ID`...), so Powertools behaves as in Lambda (X-Ray is
on). The process times `import <handler module>` alone; the baseline is `import boto3`
(the artifact's own copy) measured the same way, interleaved with the handlers.

Figures and ratios are CPU seconds of the process (`time.process_time`): the import is
single-threaded work, and on a shared machine wall time mostly measures the neighbours.
Wall time is printed beside it.

Two artifacts, each with its own baseline:

- ``cached``: the artifact ships bytecode (`make package` compiles it when it has the
  runtime's Python), what a Lambda cold start reads;
- ``compiled``: the artifact ships none, so every module is compiled from source on each
  cold start, which is what Lambda pays for an artifact built where the runtime's Python
  was not at hand. A quick run skips it: it takes seconds per process.

After the import, the process calls the handler once with one SQS message it does not
consume (a CatalogEntryChanged), so nothing leaves the process; that time shows work a
lazy import moved into the first invocation. X-Ray is told the request is not sampled and
points at the loopback address, so no trace is sent anywhere.

Each handler's floor is measured too: the third-party modules its import loads (botocore,
pydantic, Powertools, sqlglot for the validator...), imported alone in the same order and
the same init phase (`services.common.init_phase`), with none of the project's code. What a
handler takes beyond its floor is what the project's own code (contracts, services) costs;
the floor is what no change to that code can remove.

A `-X importtime` profile of the slowest handler lists the packages its import spends most
time in (self time, summed per top-level package).

CPU time on a shared machine moves with its neighbours, and not alike for every import
(boto3's is heavier in file reads and unmarshalling, the handlers' in defining classes), so
a full run also counts the instructions each import executes where valgrind is installed
(`callgrind`, the process leaving with `os._exit` so the interpreter's shutdown is not
counted, minus an empty interpreter's start): the same figure on every run, a cross-check
of the CPU ratios. Instructions are not time (a cache miss costs more than an add), so
the two ratios differ; the target is judged on CPU time.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Options, Report, Timing, cost, say
from contracts import CatalogEntryChanged
from contracts.examples import example_event
from infra import package
from infra.local.template import StackModel, StackSettings, load_stack_template

NAME = "cold_start"
TARGET = 1.5  # no handler imports in more than 1.5x the time of `import boto3` alone
ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
BASELINE = "import boto3"
SEEDED = {"PYTHONHASHSEED": "0"}
# Not sampled: the X-Ray SDK builds its segments but sends nothing, and the daemon address is
# the loopback anyway.
TRACE_HEADER = "Root=1-6560b1e0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"

# Runs in the measured process. Only `time` (built in) is imported before the import that is
# timed; the result is the last line of its output.
CHILD_IMPORT = """
import time
_wall, _cpu = time.perf_counter(), time.process_time()
import {module}
_import_wall, _import_cpu = time.perf_counter() - _wall, time.process_time() - _cpu
import json, sys
result = {{"import_wall": _import_wall, "import_cpu": _import_cpu, "call_cpu": None}}
"""
CHILD_CALL = """
class Context:
    function_name = "{function}"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:{region}:{account}:function:{function}"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    log_group_name = "{log_group}"
    log_stream_name = "2026/01/01/[$LATEST]0"
    def get_remaining_time_in_millis(self):
        return 30000
event = json.loads(sys.stdin.read())
started = time.process_time()
try:
    {module}.{function_name}(event, Context())
except Exception:
    pass  # every record failed: the batch is reported as failed, as expected
result["call_cpu"] = time.process_time() - started
"""
CHILD_REPORT = """
print("\\nBENCH " + json.dumps(result))
"""
# Lists, in load order, the third-party modules a handler's import loads.
CHILD_LIBRARIES = """
import json, sys
import {module}
own = {{"contracts", "services"}}
names = [
    name for name in sys.modules
    if name.partition(".")[0] not in own and name.partition(".")[0] not in sys.stdlib_module_names
]
print("\\nBENCH " + json.dumps(names))
"""
# Imports those modules alone, inside the handlers' init phase (collector paused, then frozen).
CHILD_FLOOR = """
import time
_cpu = time.process_time()
import gc, importlib
gc.disable()
for name in {names!r}:
    try:
        importlib.import_module(name)
    except ImportError:
        pass  # an alias a package put in sys.modules (six.moves...), not a module to import
gc.freeze()
gc.enable()
_import_cpu = time.process_time() - _cpu
import json
print("\\nBENCH " + json.dumps({{"import_cpu": _import_cpu}}))
"""


@dataclass(frozen=True)
class Target:
    """One module to import: a function's handler, or the baseline."""

    label: str
    module: str
    function_name: str | None  # None: import only
    environment: dict[str, str]


@dataclass
class Measurements:
    import_wall: list[float] = field(default_factory=list)
    import_cpu: list[float] = field(default_factory=list)
    call_cpu: list[float] = field(default_factory=list)
    floor_cpu: list[float] = field(default_factory=list)


def run(options: Options) -> Report:
    report = Report(NAME)
    functions = lambda_functions()
    baseline = Target(BASELINE, "boto3", None, lambda_environment("baseline", "boto3", {}))
    targets = [baseline, *functions]
    runs = options.scaled(max(5, 2 * options.repeat - 1), max(3, options.repeat))
    # Compiling every module from source takes seconds per process: a quick run skips it.
    modes = ("cached",) if options.quick else ("cached", "compiled")
    event = json.dumps(_foreign_sqs_batch())
    report.figure(
        f"{len(functions)} handlers from the template, {runs} fresh processes each per mode; "
        "ratios on CPU time (the machine is shared, wall time varies with its load)"
    )

    slowest_cached: Target | None = None
    artifacts: dict[str, Path] = {}
    for mode in modes:
        artifacts[mode] = _artifact(options, mode)
        for target in targets:  # warm the file cache: both modes read the same files
            _measure(target, artifacts[mode], event)
        libraries = {target.label: _libraries(target, artifacts[mode]) for target in functions}
        results = {target.label: Measurements() for target in targets}
        for _ in range(runs):  # round-robin: load drift hits every module alike
            for target in targets:
                measured = _measure(target, artifacts[mode], event)
                results[target.label].import_wall.append(measured["import_wall"])
                results[target.label].import_cpu.append(measured["import_cpu"])
                if measured["call_cpu"] is not None:
                    results[target.label].call_cpu.append(measured["call_cpu"])
                if target.label in libraries:
                    floor = _measure_floor(target, artifacts[mode], libraries[target.label])
                    results[target.label].floor_cpu.append(floor)
        slowest = _report_mode(report, mode, targets, results)
        if mode == "cached":
            slowest_cached = slowest

    if slowest_cached is not None:
        _report_profile(report, slowest_cached, artifacts["cached"])
    valgrind = shutil.which("valgrind")
    if valgrind and not options.quick:
        _report_instructions(report, valgrind, targets, artifacts["cached"])
    return report


def _report_instructions(
    report: Report, valgrind: str, targets: list[Target], code_dir: Path
) -> None:
    """Instructions each import executes (valgrind), against `import boto3`'s."""
    say("  counting instructions (valgrind), the cached artifact")
    empty = Target("empty interpreter", "", None, targets[0].environment)

    def count(target: Target) -> int:
        body = f"import {target.module}\n" if target.module else ""
        # One hash seed: the same dict and set layouts, so the same count on every run.
        pinned = Target(target.label, target.module, None, target.environment | SEEDED)
        output = _run_child(
            ["-c", body + "import os\nos._exit(0)\n"],
            pinned,
            code_dir,
            wrapper=[valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null"],
            timeout=600,
        )
        found = re.search(r"Collected : (\d+)", output.stderr)
        if found is None:
            raise RuntimeError(
                f"{target.label}: valgrind printed no count:\n{output.stderr[-2000:]}"
            )
        return int(found.group(1))

    with ThreadPoolExecutor(max_workers=2) as pool:
        start, *counts = pool.map(count, [empty, *targets])
    base = counts[0] - start
    figures = ", ".join(
        f"{target.label} {(counted - start) / base:.2f}x"
        for target, counted in zip(targets[1:], counts[1:], strict=True)
    )
    report.figure(
        f"[cached] instructions: {BASELINE} {base / 1e6:.0f} M; handlers' imports: {figures}"
    )


def _artifact(options: Options, mode: str) -> Path:
    """The artifact's code directory for this interpreter, with bytecode or without."""
    say(f"  building the artifact ({mode})")
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    built = package.build(
        options.work_dir / f"cold-start-artifact-{mode}",
        package.local_target(),
        uv=uv,
        bytecode=mode == "cached",
    )
    if built.compiled != (mode == "cached"):
        raise RuntimeError(f"the {mode} artifact was built with compiled={built.compiled}")
    return built.code_dir.resolve()


def _report_mode(
    report: Report, mode: str, targets: list[Target], results: dict[str, Measurements]
) -> Target:
    """Figures per handler and the ratio of the slowest; returns the slowest handler."""
    base = results[BASELINE]
    base_cpu = statistics.median(base.import_cpu)
    report.figure(
        f"[{mode}] {BASELINE}: {1000 * base_cpu:.0f} ms cpu "
        f"({1000 * statistics.median(base.import_wall):.0f} ms wall)"
    )
    handlers = targets[1:]
    for target in handlers:
        measured = results[target.label]
        cpu = statistics.median(measured.import_cpu)
        call = statistics.median(measured.call_cpu) if measured.call_cpu else None
        first_call = (
            f", first call +{1000 * call:.0f} ms cpu (import + first call "
            f"{(cpu + call) / base_cpu:.2f}x)"
            if call is not None
            else ""
        )
        report.figure(
            f"[{mode}] {target.label}: import {1000 * cpu:.0f} ms cpu ({cpu / base_cpu:.2f}x), "
            f"{1000 * statistics.median(measured.import_wall):.0f} ms wall{first_call}"
        )
        if measured.floor_cpu:
            floor = statistics.median(measured.floor_cpu)
            report.figure(
                f"[{mode}] {target.label}: its libraries alone {1000 * floor:.0f} ms cpu "
                f"({floor / base_cpu:.2f}x), own code +{1000 * (cpu - floor):.0f} ms "
                f"(+{(cpu - floor) / base_cpu:.2f}x)"
            )
    slowest = max(handlers, key=lambda target: statistics.median(results[target.label].import_cpu))
    report.ratio(
        cost(
            NAME,
            Timing(
                f"slowest handler import, {mode} ({slowest.label})",
                results[slowest.label].import_cpu,
            ),
            Timing(f"{BASELINE}, {mode}", base.import_cpu),
            target=TARGET,
        )
    )
    with_call = {
        target.label: statistics.median(results[target.label].import_cpu)
        + statistics.median(results[target.label].call_cpu)
        for target in handlers
        if results[target.label].call_cpu
    }
    if with_call:
        label = max(with_call, key=with_call.__getitem__)
        report.figure(
            f"[{mode}] slowest import + first call: {label} {1000 * with_call[label]:.0f} ms cpu "
            f"({with_call[label] / base_cpu:.2f}x {BASELINE})"
        )
    return slowest


def _report_profile(report: Report, target: Target, code_dir: Path) -> None:
    """Self time of the slowest handler's import, summed per top-level package."""
    output = _run_child(["-X", "importtime", "-c", f"import {target.module}"], target, code_dir)
    per_package: Counter[str] = Counter()
    for line in output.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        per_package[name.strip().split(".")[0]] += int(self_us)
    total = sum(per_package.values())
    top = ", ".join(f"{name} {us / 1000:.0f}" for name, us in per_package.most_common(8))
    report.figure(
        f"importtime profile of {target.label} (cached, ms self time, total "
        f"{total / 1000:.0f}): {top}"
    )


# ---------------------------------------------------------------------- processes


def _measure(target: Target, code_dir: Path, event: str) -> dict[str, Any]:
    code = CHILD_IMPORT.format(module=target.module)
    if target.function_name is not None:
        code += CHILD_CALL.format(
            module=target.module,
            function=target.environment["AWS_LAMBDA_FUNCTION_NAME"],
            function_name=target.function_name,
            log_group=target.environment["AWS_LAMBDA_LOG_GROUP_NAME"],
            region=REGION,
            account=ACCOUNT_ID,
        )
    code += CHILD_REPORT
    output = _run_child(["-c", code], target, code_dir, stdin=event)
    for line in reversed(output.stdout.splitlines()):
        if line.startswith("BENCH "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
            return result
    raise RuntimeError(f"{target.label}: no measurement in the output:\n{output.stderr[-2000:]}")


def _libraries(target: Target, code_dir: Path) -> list[str]:
    """The third-party modules `target`'s import loads, in load order."""
    output = _run_child(["-c", CHILD_LIBRARIES.format(module=target.module)], target, code_dir)
    names: list[str] = json.loads(output.stdout.splitlines()[-1].removeprefix("BENCH "))
    return names


def _measure_floor(target: Target, code_dir: Path, names: list[str]) -> float:
    """CPU seconds to import `names` alone, as the handler's init phase would."""
    output = _run_child(["-c", CHILD_FLOOR.format(names=names)], target, code_dir)
    measured: dict[str, float] = json.loads(output.stdout.splitlines()[-1].removeprefix("BENCH "))
    return measured["import_cpu"]


def _run_child(
    arguments: list[str],
    target: Target,
    code_dir: Path,
    stdin: str = "",
    *,
    wrapper: list[str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    environment = dict(target.environment)
    environment["LAMBDA_TASK_ROOT"] = str(code_dir)
    environment["PYTHONPATH"] = str(code_dir)
    environment["PYTHONDONTWRITEBYTECODE"] = "1"  # read-only, like Lambda's /var/task
    output = subprocess.run(  # noqa: S603 - our own interpreter and code
        [*(wrapper or []), sys.executable, "-S", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=code_dir,
        env=environment,
        check=False,
        timeout=timeout,
    )
    if output.returncode != 0:
        raise RuntimeError(f"{target.label} failed to start:\n{output.stderr[-2000:]}")
    return output


# ---------------------------------------------------------------------- the functions


def lambda_functions() -> list[Target]:
    """Every function of the template, with the environment the template gives it."""
    say("  reading the functions from the template")
    translated = load_stack_template(TEMPLATE, region=REGION)
    stack = StackModel(
        translated.resources_template,
        parameters={"PinpointProjectId": PROJECT_ID},
        settings=StackSettings(region=REGION, account_id=ACCOUNT_ID),
    )
    # Only functions fed by an SQS queue get the first call (a batch of one message).
    sqs_fed = {
        str(stack.properties(logical_id)["FunctionName"])
        for logical_id in stack.resources
        if stack.resource_type(logical_id) == "AWS::Lambda::EventSourceMapping"
    }
    targets = []
    for logical_id in stack.resources:
        if stack.resource_type(logical_id) != "AWS::Lambda::Function":
            continue
        properties = stack.properties(logical_id)
        handler = str(properties["Handler"])
        module, _, function_name = handler.rpartition(".")
        variables = (properties.get("Environment") or {}).get("Variables") or {}
        environment = lambda_environment(
            stack.physical_name(logical_id),
            handler,
            {key: str(value) for key, value in variables.items()},
            memory_mb=int(properties.get("MemorySize", 128)),
            log_group=(properties.get("LoggingConfig") or {}).get("LogGroup"),
        )
        label = module.removeprefix("services.").removesuffix(".handler")
        called = function_name if stack.physical_id(logical_id) in sqs_fed else None
        targets.append(Target(label, module, called, environment))
    return sorted(targets, key=lambda target: target.label)


def lambda_environment(
    function_name: str,
    handler: str,
    variables: dict[str, str],
    *,
    memory_mb: int = 512,
    log_group: str | None = None,
) -> dict[str, str]:
    """What the Lambda runtime puts in a function's environment, plus the template's own."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "LAMBDA_RUNTIME_DIR": str(ROOT),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        # The template names each function's group (LoggingConfig.LogGroup).
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group or f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
        "_HANDLER": handler,
        **variables,
    }


def _foreign_sqs_batch() -> dict[str, Any]:
    """One SQS message holding an event no function consumes."""
    body = json.dumps(example_event(CatalogEntryChanged))
    return {
        "Records": [
            {
                "messageId": "00000000-0000-4000-8000-000000000002",
                "receiptHandle": "handle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1767225600000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1767225600000",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:queue",
                "awsRegion": REGION,
            }
        ]
    }
