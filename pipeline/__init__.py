"""Analysis pipeline for Intercultural Cities good-practice reports."""

__version__ = "0.1.0"
