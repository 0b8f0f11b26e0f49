"""A Lambda function's init phase: the import of its handler module, once per cold start.

The import creates a few hundred thousand objects (botocore's models and endpoints, pydantic's,
the SQL parser's expression classes, the contract models) and none of them is garbage. The
cyclic garbage collector still runs through it, every 700 allocations, and its older
generations walk everything imported so far again and again: about a tenth of the import's
CPU, spent finding that nothing can be freed.

`init_phase()` pauses the collector for the import and then freezes what was imported
(`gc.freeze`: moved to a generation no collection walks), so the invocations that follow do
not walk it either. Nothing is lost: reference counting frees as always, and what is created
after the init phase is collected as usual. Python's documentation recommends the same pair
for a process that forks after its start-up (`gc.freeze`). At exit the frozen objects are
handed back (`gc.unfreeze`), so the interpreter's last collection finalizes them as it would
have: a process that hosts the functions (the local cloud, the CLI) exits cleanly.

Every handler module does its imports inside it:

    from services.common.init_phase import init_phase

    with init_phase():
        from services.common.function import LambdaFunction
        ...
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def init_phase() -> Iterator[None]:
    """Collect nothing inside; freeze what exists after. A collector someone else disabled
    (a benchmark, a nested init phase) stays disabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
        # Registered at most once (unregister is a no-op when it is not there).
        atexit.unregister(gc.unfreeze)
        atexit.register(gc.unfreeze)
