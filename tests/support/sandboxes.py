"""Environment of the extra sandbox instances tests start (carrier, health, AMI).

Two checkouts can test side by side on one machine: CCPLANE_TEST_SANDBOX_SUFFIX
is appended to every instance name and CCPLANE_TEST_PORT_OFFSET is added to
every port (set also CCPLANE_SANDBOX_* for the main instance)."""
from __future__ import annotations

import os


def instance_env(name: str, ami_port: int, http_port: int, sip_port: int, rtp_start: int,
                 rtp_end: int) -> dict[str, str]:
    offset = int(os.environ.get("CCPLANE_TEST_PORT_OFFSET", "0") or 0)
    suffix = os.environ.get("CCPLANE_TEST_SANDBOX_SUFFIX", "")
    return {
        "CCPLANE_SANDBOX_NAME": name + suffix,
        "CCPLANE_SANDBOX_AMI_PORT": str(ami_port + offset),
        "CCPLANE_SANDBOX_HTTP_PORT": str(http_port + offset),
        "CCPLANE_SANDBOX_SIP_PORT": str(sip_port + offset),
        "CCPLANE_SANDBOX_RTP_START": str(rtp_start + offset),
        "CCPLANE_SANDBOX_RTP_END": str(rtp_end + offset),
    }
