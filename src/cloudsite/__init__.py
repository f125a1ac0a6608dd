"""cloudsite: a Django site to a hardened AWS deployment with one command, and back to $0."""

__version__ = "0.1.0"
