"""`make demo`: the whole system on the local cloud."""
