"""The shipped default configuration files (YAML), installed with the package."""
