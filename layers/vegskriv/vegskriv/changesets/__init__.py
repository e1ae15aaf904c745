"""Changesets (endringssett): document models, validation, operations, location, locks,
rights, workflow steps and use cases."""
