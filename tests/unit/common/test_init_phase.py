"""The init phase: no collection while a handler imports, what it imported frozen after,
handed back at exit (see services/common/init_phase.py)."""

from __future__ import annotations

import gc
import json

import pytest

from services.common.init_phase import init_phase
from tests.fixtures.interpreter import ROOT, fresh_python

HANDLERS = sorted(
    f"services.{path.parent.name}.handler" for path in ROOT.glob("services/*/handler.py")
)


def test_nothing_is_collected_inside_and_the_collector_runs_again_after() -> None:
    code = (
        "import gc, json\n"
        "from services.common.init_phase import init_phase\n"
        "collections = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and collections.append(1))\n"
        "frozen_before = gc.get_freeze_count()\n"
        "with init_phase():\n"
        "    enabled_inside = gc.isenabled()\n"
        "    garbage = [[] for _ in range(50_000)]\n"  # far past the 700-allocation threshold
        "    del garbage\n"
        "frozen = gc.get_freeze_count() - frozen_before\n"
        "print(json.dumps({'collections': len(collections), 'inside': enabled_inside,\n"
        "                  'after': gc.isenabled(), 'frozen': frozen}))\n"
    )
    result = json.loads(fresh_python(code).stdout.splitlines()[-1])
    assert result["collections"] == 0
    assert result["inside"] is False
    assert result["after"] is True
    assert result["frozen"] > 0


def test_a_collector_disabled_before_stays_disabled_and_an_error_still_ends_the_phase() -> None:
    assert gc.isenabled()
    gc.disable()
    try:
        with init_phase():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ImportError), init_phase():
        raise ImportError("a handler that cannot import")
    assert gc.isenabled()


@pytest.mark.parametrize("handler", HANDLERS)
def test_a_handlers_import_collects_nothing_and_leaves_the_collector_on(handler: str) -> None:
    # A collection once pydantic is loaded (inside the phase: every handler's contracts need
    # it) and before the freeze ran during the heavy part of the import. Before the phase
    # (the `services` package) and after it (the module's routes and LambdaFunction) the
    # collector runs as usual.
    code = (
        "import gc, json, sys\n"
        "before_freeze = []\n"
        "def seen(phase, info):\n"
        "    if phase == 'start' and 'pydantic' in sys.modules and not gc.get_freeze_count():\n"
        "        before_freeze.append(info['generation'])\n"
        "gc.callbacks.append(seen)\n"
        f"import {handler}\n"
        "print(json.dumps([before_freeze, gc.isenabled(), gc.get_freeze_count() > 0]))\n"
    )
    assert json.loads(fresh_python(code).stdout.splitlines()[-1]) == [[], True, True]


def test_the_frozen_objects_are_handed_back_at_exit() -> None:
    # atexit runs last-registered first: this check runs after the init phase's unfreeze.
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at exit', gc.get_freeze_count()))\n"
        "import services.query_validator.handler\n"
        "import services.notifier.handler\n"
    )
    output = fresh_python(code)
    assert output.stdout.splitlines()[-1] == "frozen at exit 0"
    assert output.stderr == ""
