"""What the connection doctor reports: steps with results and times, and a verdict."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

OK, WARN, FAIL, INFO, SKIP = "ok", "warn", "fail", "info", "skip"
MARKS = {OK: "OK", WARN: "WARN", FAIL: "FAIL", INFO: "INFO", SKIP: "SKIP"}


@dataclass
class Step:
    """One layer checked: what, for which connection (``section``), how it went and how long
    it took. ``advice`` is what to try when this step is the one that broke."""

    layer: str          # records, autoconfig, resolve, compare, dnssec, tcp, tls, greeting
    title: str
    status: str = INFO
    summary: str = ""
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    section: str = ""
    advice: str = ""

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ms"] = round(self.seconds * 1000, 1)
        del out["seconds"]
        return out


@dataclass
class Verdict:
    status: str          # ok, warn or fail
    message: str         # which step broke, or that all worked
    advice: str = ""
    step: str = ""       # the title of the step that broke


@dataclass
class Report:
    target: str
    kind: str            # host, url, email
    steps: list[Step] = field(default_factory=list)
    verdict: Verdict | None = None
    seconds: float = 0.0

    def decide(self) -> Verdict:
        """The first failed step names what broke; else the first warning; else all is well."""
        for wanted in (FAIL, WARN):
            step = next((s for s in self.steps if s.status == wanted), None)
            if step is not None:
                where = f" ({step.section})" if step.section else ""
                verb = "broke" if wanted == FAIL else "works, with a warning"
                self.verdict = Verdict(wanted, f"{step.title}{where} {verb}: {step.summary}",
                                       step.advice, step.title)
                return self.verdict
        self.verdict = Verdict(OK, "Every layer works: name resolution, connection, TLS and the "
                               "greeting. A problem left is above them (login, permissions, "
                               "the request itself).")
        return self.verdict

    def to_dict(self) -> dict:
        verdict = self.verdict or self.decide()
        return {"target": self.target, "kind": self.kind, "ms": round(self.seconds * 1000, 1),
                "steps": [s.to_dict() for s in self.steps], "verdict": asdict(verdict)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        verdict = self.verdict or self.decide()
        lines = [f"Connection doctor: {self.target}"]
        section = None
        for step in self.steps:
            if step.section != section:
                section = step.section
                if section:
                    lines.append(f"  {section}")
            lines.append(step_line(step))
            lines += [f"{'':8}{'':9}· {detail}" for detail in step.details]
        lines.append(f"Verdict: {MARKS[verdict.status]}: {verdict.message}")
        if verdict.advice:
            lines.append(f"Try: {verdict.advice}")
        return "\n".join(lines) + "\n"


def step_line(step: Step) -> str:
    time_text = f"{step.seconds * 1000:.0f} ms" if step.status != SKIP else ""
    return f"  {MARKS[step.status]:<5} {time_text:>8}  {step.title}: {step.summary}"
