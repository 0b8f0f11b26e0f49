"""The validator's rules, checked again before a query starts (defence in depth).

The runner starts only what the validator would admit: a `SegmentQueryValidated` that got
past the bus policy and the producer check but carries a query the rules reject (`SELECT
*`, a write, another database) is refused. sqlglot is imported on the first check, so the
runner's cold start and its Athena state changes do not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import EngagementTarget


@dataclass(frozen=True)
class ValidatorRules:
    catalog: str
    database: str
    allowed_databases: tuple[str, ...] = ()

    def reasons(self, query: str, target: EngagementTarget) -> list[str]:
        """The rejection codes the validator's rules give `query` on `target` (none: it
        may run)."""
        from services.common.sql_rules import ValidationPolicy, validate  # noqa: PLC0415
        from services.common.targets.vocabularies import IMPORT_VOCABULARIES  # noqa: PLC0415

        policy = ValidationPolicy(
            catalog=self.catalog,
            default_database=self.database,
            allowed_databases=frozenset(self.allowed_databases or (self.database,)),
        ).for_vocabulary(IMPORT_VOCABULARIES[target])
        return list(validate(query, policy).codes)
