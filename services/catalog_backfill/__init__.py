"""catalog-backfill: the deploy-time custom resource that asks for a catalog backfill."""
