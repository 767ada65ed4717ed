"""Real SIP phones for tests: the baresip driver lives in ccplane.demo.baresip
(the demo's simulated agents use it too)."""
from ccplane.demo.baresip import CONFIG, Phone, free_port, phone_ports

__all__ = ["CONFIG", "Phone", "free_port", "phone_ports"]
