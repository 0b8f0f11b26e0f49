"""The local cloud: the whole system in process, built from infra/template.yaml."""

from infra.local.cloud import LocalCloud

__all__ = ["LocalCloud"]
