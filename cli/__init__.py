"""pinpoint-lake command-line interface."""
