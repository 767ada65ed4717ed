from __future__ import annotations

from ccplane.asterisk.sandbox import hosts_file


def test_hosts_file_names_the_machine_on_loopback() -> None:
    text = hosts_file("vm.example.lan")
    assert text.splitlines()[0].split() == ["127.0.0.1", "localhost", "vm.example.lan", "vm"]
    assert hosts_file("vm").splitlines()[0].split() == ["127.0.0.1", "localhost", "vm"]
