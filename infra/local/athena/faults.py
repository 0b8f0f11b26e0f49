"""Fault switches for tests: hold queries RUNNING, or force them to fail or be cancelled.

A rule matches a query whose text contains ``match`` (every query when ``match`` is None)
and stays in force until :meth:`AthenaFaults.clear` or :meth:`FaultRule.remove`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from infra.local.athena.errors import GENERIC_USER_ERROR, USER, QueryFailure


class FaultKind(StrEnum):
    STICK = "stick"
    FAIL = "fail"
    CANCEL = "cancel"


@dataclass(eq=False)
class FaultRule:
    kind: FaultKind
    match: str | None
    failure: QueryFailure | None = None
    reason: str | None = None
    hits: int = 0
    _owner: AthenaFaults | None = field(default=None, repr=False)

    def matches(self, query: str) -> bool:
        return self.match is None or self.match in query

    def remove(self) -> None:
        if self._owner is not None:
            self._owner.remove(self)


class AthenaFaults:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def stick(self, match: str | None = None) -> FaultRule:
        """Matching queries reach RUNNING and stay there (the runner must stop them)."""
        return self._add(FaultRule(FaultKind.STICK, match))

    def fail(
        self,
        match: str | None = None,
        *,
        reason: str = "GENERIC_USER_ERROR: failure injected by the local Athena",
        category: int = USER,
        error_type: int = GENERIC_USER_ERROR,
        retryable: bool = False,
    ) -> FaultRule:
        """Matching queries end FAILED with this AthenaError instead of running."""
        failure = QueryFailure(category, error_type, reason, retryable)
        return self._add(FaultRule(FaultKind.FAIL, match, failure=failure, reason=reason))

    def cancel(
        self, match: str | None = None, *, reason: str = "Query cancelled by the local Athena"
    ) -> FaultRule:
        """Matching queries end CANCELLED with this reason instead of running."""
        return self._add(FaultRule(FaultKind.CANCEL, match, reason=reason))

    def clear(self) -> None:
        self._rules.clear()

    def remove(self, rule: FaultRule) -> None:
        if rule in self._rules:
            self._rules.remove(rule)

    def rule_for(self, query: str) -> FaultRule | None:
        """The most recently added rule matching ``query``; counts the hit."""
        for rule in reversed(self._rules):
            if rule.matches(query):
                rule.hits += 1
                return rule
        return None

    def _add(self, rule: FaultRule) -> FaultRule:
        rule._owner = self
        self._rules.append(rule)
        return rule
