"""`contracts` loads its model modules on first use of one of their names."""

from __future__ import annotations

import json

import pytest

import contracts
from contracts import aws, catalog, segmentation
from tests.fixtures.interpreter import fresh_python

MODEL_MODULES = ("contracts.aws", "contracts.catalog", "contracts.segmentation")


def _loaded_after(code: str) -> list[str]:
    report = f"print(json.dumps([n for n in {MODEL_MODULES!r} if n in sys.modules]))"
    script = f"{code}\nimport sys, json\n{report}\n"
    output = fresh_python(script)
    loaded: list[str] = json.loads(output.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    ("code", "loaded"),
    [
        ("import contracts", []),
        ("from contracts import Event, EventRegistry, put_events_entry, utc_now", []),
        ("from contracts import SegmentQueryRequested", ["contracts.segmentation"]),
        ("from contracts import CatalogEntryChanged", ["contracts.catalog"]),
        ("from contracts import ScheduledEvent", ["contracts.aws"]),
        ("from contracts import REGISTRY", list(MODEL_MODULES)),
        ("from contracts import parse_event", []),
    ],
)
def test_a_model_module_loads_when_one_of_its_names_is_used(code: str, loaded: list[str]) -> None:
    assert _loaded_after(code) == loaded


def test_every_exported_name_resolves_to_its_modules_object() -> None:
    homes = {
        "contracts.aws": aws,
        "contracts.catalog": catalog,
        "contracts.segmentation": segmentation,
    }
    for name, module in contracts._LAZY_MODULES.items():
        assert getattr(contracts, name) is getattr(homes[module], name), name
    for name in contracts.__all__:
        assert getattr(contracts, name) is not None, name
    assert set(contracts.__all__) <= set(dir(contracts))


def test_every_event_a_model_module_defines_is_exported_and_registered() -> None:
    registered = set(contracts.REGISTRY.models)
    for module in (aws, catalog, segmentation):
        events = {
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and value.__module__ == module.__name__
            and issubclass(value, contracts.Event | contracts.AwsEvent)
            and "DETAIL_TYPE" in vars(value)
        }
        assert events, module.__name__
        for event in events:
            assert contracts._LAZY_MODULES.get(event.__name__) == module.__name__, event
            assert event in registered, event


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        contracts.Nope  # noqa: B018 - the lookup is the test


def test_the_registry_holds_every_event() -> None:
    assert set(contracts.REGISTRY.models) == {*contracts.PROJECT_EVENTS, *contracts.AWS_EVENTS}
    assert contracts.parse_event.__doc__
