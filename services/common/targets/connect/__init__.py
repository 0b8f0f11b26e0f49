"""Amazon Connect: a Customer Profiles domain (profiles, segment definitions, upload jobs)
and a Connect instance (outbound campaigns v2). Everything the services know about Connect
lives in this package."""
