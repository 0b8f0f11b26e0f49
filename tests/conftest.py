"""Session-wide test environment, set before any service module is imported.

Powertools reads its service name and metrics namespace when its singletons are built, as
Lambda sets them before the import; fake credentials keep every test away from real AWS.
"""

from __future__ import annotations

import os

_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "pinpoint-lake-tests",
    "POWERTOOLS_SERVICE_NAME": "pinpoint-lake-tests",
}
for _name, _value in _TEST_ENVIRONMENT.items():
    os.environ[_name] = _value  # noqa: TID251 - the test process is its own environment

# The emulator suites' shared fixtures (`clock`, `moto_mock`), found by every conftest.
pytest_plugins = ["tests.fixtures.emulator_tests"]
