"""importer: Athena result rows -> one Pinpoint import job per run, followed to its end."""
