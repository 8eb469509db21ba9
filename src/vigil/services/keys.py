"""Use case: manage the OpenPGP keys whose advisory signatures vigil requires."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.services.store import Store
from vigil.sources.csaf.integrity import PublicKey, parse_public_key
from vigil.store import schema as t
from vigil.store.db import transaction


def configured_keys(session: Session) -> tuple[PublicKey, ...]:
    rows = session.scalars(select(t.OpenPGPKey).order_by(t.OpenPGPKey.added_at))
    return tuple(PublicKey(r.fingerprint, tuple(r.user_ids), r.armored) for r in rows)


def add_key(store: Store, armored: bytes) -> tuple[PublicKey, bool]:
    """Trust a public key; returns (key, True if it was new). ValueError for anything not a public key."""
    key = parse_public_key(armored)
    with transaction(store.sessions) as session:
        if session.get(t.OpenPGPKey, key.fingerprint) is not None:
            return key, False
        session.add(
            t.OpenPGPKey(
                fingerprint=key.fingerprint,
                user_ids=list(key.user_ids),
                armored=key.armored,
                added_at=datetime.now(UTC),
            )
        )
    return key, True


def list_keys(store: Store) -> tuple[PublicKey, ...]:
    with store.sessions() as session:
        return configured_keys(session)


def remove_key(store: Store, fingerprint: str) -> bool:
    with transaction(store.sessions) as session:
        result = session.execute(delete(t.OpenPGPKey).where(t.OpenPGPKey.fingerprint == fingerprint.lower()))
        return bool(getattr(result, "rowcount", 0))
