"""The tabs of the main screen, one pane per file. Each loads its data in a worker thread and
paints it when its message comes back; none holds a business rule (the views and commands do)."""

from careterm.tui.panes.aid import AidPane
from careterm.tui.panes.audit import AuditPane
from careterm.tui.panes.base import Pane
from careterm.tui.panes.compliance import CompliancePane
from careterm.tui.panes.home import HomePane
from careterm.tui.panes.pupils import PupilsPane
from careterm.tui.panes.queue import PairConfirm, QueuePane

TABS = ("home", "pupils", "queue", "compliance", "aid", "audit")
PANES = {"home": HomePane, "pupils": PupilsPane, "queue": QueuePane, "compliance": CompliancePane, "aid": AidPane, "audit": AuditPane}

__all__ = ["PANES", "TABS", "AidPane", "AuditPane", "CompliancePane", "HomePane", "PairConfirm", "Pane", "PupilsPane", "QueuePane"]
