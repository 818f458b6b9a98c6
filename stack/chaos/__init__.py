"""Faults injected for real between Sextant and the stack's backends (`make chaos`; see stack/README.md).

`faults` names every fault and writes the answers a faulty backend gives; `proxy` is the HTTP-aware proxy
that passes requests through to a real backend or applies one of those faults; `control.sh` kills, pauses
and restarts the stack's own backend processes through their PID files.
"""
