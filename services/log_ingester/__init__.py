"""log-ingester: Pinpoint writes seen by CloudTrail (log files, API-call events) and catalog
backfills become PinpointResourceChanged events."""
