"""What the app's worker threads hand to the UI thread: typed messages, posted (the one thing a
worker may do besides `call_from_thread`), handled where the state they change lives.

A worker that fails does not close the app: every worker runs with `exit_on_error=False`, and
`ReportsWorkErrors` turns its failure into `WorkFailed`, which bubbles up to the app's one
handler (it shows the problem in the user's language)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual.message import Message
from textual.worker import Worker, WorkerState


class Started(Message):
    """The first load (and each after a change in the log): who is who, today, the school."""

    def __init__(self, name: str, day: dt.date, pupils: list, staff: list, head: int, schools: int, zone: Any) -> None:
        super().__init__()
        self.name, self.day, self.pupils, self.staff = name, day, pupils, staff
        self.head, self.schools, self.zone = head, schools, zone


class LogMoved(Message):
    """The poll saw the log's position move: someone recorded something."""

    def __init__(self, head: int) -> None:
        super().__init__()
        self.head = head


class Recorded(Message):
    """Entries recorded without a form (a suggested pair confirmed with one key)."""

    def __init__(self, events: list) -> None:
        super().__init__()
        self.events = events


class RecordRefused(Message):
    """A rule refused what was to be recorded without a form."""

    def __init__(self, refused: Exception) -> None:
        super().__init__()
        self.refused = refused


class Loaded(Message, bubble=False):
    """A pane's or screen's data, fetched in its worker, for it to paint (not its parents')."""

    def __init__(self, data: Any) -> None:
        super().__init__()
        self.data = data


class WorkFailed(Message):
    """A worker raised: bubbles to the app, which shows it and carries on."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class ReportsWorkErrors:
    """For the nodes that start workers: a failed worker becomes WorkFailed (the worker's own
    state message goes to its node only)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.post_message(WorkFailed(event.worker.error))
