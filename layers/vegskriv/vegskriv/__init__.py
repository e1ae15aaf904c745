"""vegskriv: a serverless write API for a road database (NVDB API Skriv v3 semantics)."""

__version__ = "0.1.0"
