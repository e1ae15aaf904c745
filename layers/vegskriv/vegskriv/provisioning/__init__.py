"""Nightly full provisioning to consumers (spec/provisioning.md). Not built yet."""
