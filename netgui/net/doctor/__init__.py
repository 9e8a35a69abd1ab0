"""The connection doctor: for a host, ``host:port``, URL or e-mail address, every layer in
order (name resolution, TCP to each address, TLS, the protocol's greeting; MX, SRV and
autoconfig for an address), each step's result and time, and a verdict naming the step that
broke and what to try. No Tk: the Diagnose window and ``netgui doctor`` show its reports."""

from .core import AUTOCONFIG_URL, DEFAULT_TIMEOUT, diagnose
from .model import FAIL, INFO, OK, SKIP, WARN, Report, Step, Verdict
from .target import SCHEMES, DoctorInputError, Target, parse_target

__all__ = ["diagnose", "parse_target", "Target", "Report", "Step", "Verdict", "DoctorInputError",
           "SCHEMES", "AUTOCONFIG_URL", "DEFAULT_TIMEOUT", "OK", "WARN", "FAIL", "INFO", "SKIP"]
