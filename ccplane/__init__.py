"""ccplane: a contact-center and PABX control plane for Asterisk 22."""

__version__ = "0.1.0"
