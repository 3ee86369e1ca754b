"""Staff alerts: conversations that need a person (a citizen in crisis, a request for a human).

The Rasa actions call ``raise_alert``; staff list and close them with the admin command. An alert
holds the conversation id and a kind, nothing the citizen said.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, List

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from actions.booking.models import StaffAlert

CRISIS = "crisis"
HUMAN_REQUESTED = "human_requested"


@dataclass(frozen=True)
class Alert:
    id: int
    conversation_id: str
    kind: str
    created_at: dt.datetime
    handled: bool
    handled_at: "dt.datetime | None"


class StaffAlerts:
    def __init__(self, sessions: sessionmaker, clock: Callable[[], dt.datetime]):
        self._sessions = sessions
        self._clock = clock

    def raise_alert(self, conversation_id: str, kind: str = CRISIS) -> int:
        """Record that ``conversation_id`` needs staff; returns the alert's id."""
        if not conversation_id or not kind:
            raise ValueError("an alert needs a conversation id and a kind")
        with self._sessions.begin() as session:
            alert = StaffAlert(conversation_id=conversation_id, kind=kind, created_at=self._clock(),
                               handled=False)
            session.add(alert)
            session.flush()
            return alert.id

    def list(self, include_handled: bool = False) -> List[Alert]:
        query = select(StaffAlert).order_by(StaffAlert.created_at, StaffAlert.id)
        if not include_handled:
            query = query.where(StaffAlert.handled.is_(False))
        with self._sessions() as session:
            return [
                Alert(a.id, a.conversation_id, a.kind, a.created_at, a.handled, a.handled_at)
                for a in session.execute(query).scalars()
            ]

    def mark_handled(self, alert_id: int) -> bool:
        """Close an alert; False if there is no open alert with that id."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(StaffAlert)
                .where(StaffAlert.id == alert_id, StaffAlert.handled.is_(False))
                .values(handled=True, handled_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1
