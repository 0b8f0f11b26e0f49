"""Amazon Pinpoint: a project (application id) with campaigns, journeys, segments and
endpoint import jobs. Everything the services know about Pinpoint lives in this package."""
