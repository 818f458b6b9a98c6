"""The playbook's security controls: the controls file (`definition`), the evidence that checks them
(`audit`, `findings`, and Prometheus queries in `queries/controls.yaml`), their computed status and the
posture grade (`status`), and the Security page's loader (`view`)."""

from app.controls.definition import Control, Controls, ControlsError, EvidenceSpec, controls
from app.controls.status import STATUSES, ControlStatus, Evidence, Grade, grade

__all__ = [
    "STATUSES",
    "Control",
    "ControlStatus",
    "Controls",
    "ControlsError",
    "Evidence",
    "EvidenceSpec",
    "Grade",
    "controls",
    "grade",
]
