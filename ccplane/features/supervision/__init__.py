"""Supervision: listen / whisper / barge into an agent's call (ChanSpy from the
supervisor's own extension) and the supervisor panel's colour thresholds."""
