"""Kontrollpanel and Generator: static pages shipped in the package, and the read models they need."""
