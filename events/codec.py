"""The msgspec mapper: events to stored bytes and back, with upcasting of older schemas.

eventsourcing 9.5 has no msgspec mapper and its default one needs `__dict__` events, so this
subclass of its `Mapper` encodes our frozen structs with msgspec JSON and keeps the library's
cipher and compressor hooks. A store's cipher (`events.keys.StoreCipher`, AES-256-GCM) encrypts
the JSON bound to its topic (associated data): the stored state is what the hash chain covers.

The stored topic is the stable type name, with `.vN` when the schema is past 1. Decoding a
current-schema event goes straight to the struct; an older one is upcast as a dict first.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any, Callable, Mapping

import msgspec
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)

from events.keys import event_aad
from events.types import ALIASES, BY_NAME, Event

_encoder = msgspec.json.Encoder()
# each type's decoder made when first needed: a command that reads three types does not pay for
# building all of them at start-up (6 ms)
_decoders: dict[type, msgspec.json.Decoder] = {}


def _decoder_of(cls: type) -> msgspec.json.Decoder:
    decoder = _decoders.get(cls)
    if decoder is None:
        decoder = _decoders[cls] = msgspec.json.Decoder(cls)
    return decoder


def _staff_joined_v1_v2(state: dict[str, Any]) -> dict[str, Any]:
    role = state.pop("role", None) or "teacher"
    state["roles"] = [role]
    return state


# A contact of schema 1 said nothing of what was said: each part is empty (not "unknown": the
# handbook shows an empty line, as for a schema-2 contact recorded without it).
_WHAT_WAS_SAID_V2 = {"summary": "", "topics": [], "problem": "", "help_given": "", "medium": "", "minutes": None,
                     "follow_up": "", "study": "", "thoughts": "", "life": "", "gift": ""}


def _contact_made_v1_v2(state: dict[str, Any]) -> dict[str, Any]:
    for key, empty in _WHAT_WAS_SAID_V2.items():
        state.setdefault(key, list(empty) if isinstance(empty, list) else empty)
    return state


# (type name, from schema) -> function turning that schema's state into the next one's.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("StaffJoined", 1): _staff_joined_v1_v2,
    ("ContactMade", 1): _contact_made_v1_v2,
}


def topic_of(cls: type[Event]) -> str:
    return cls.__name__ if cls.schema == 1 else f"{cls.__name__}.v{cls.schema}"


@lru_cache(maxsize=256)
def parse_topic(topic: str) -> tuple[type[Event], int]:
    name, _, version = topic.partition(".v")
    name = ALIASES.get(name, name)
    cls = BY_NAME.get(name)
    if cls is None:
        raise MapperDeserialisationError(f"unknown event type {topic!r}")
    try:
        schema = int(version) if version else 1
    except ValueError:
        raise MapperDeserialisationError(f"unknown event type {topic!r}") from None
    if schema > cls.schema:
        # never read a newer schema as if it were ours: its fields may mean something else
        raise MapperDeserialisationError(
            f"{topic!r} was written by a newer careterm (this one reads {cls.__name__} up to schema {cls.schema})"
        )
    return cls, schema


class NullTranscoder(Transcoder):
    """The mapper encodes by itself; the library still wants a transcoder object."""

    def encode(self, obj: Any) -> bytes:  # pragma: no cover - never called
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:  # pragma: no cover - never called
        raise NotImplementedError


class MsgspecMapper(Mapper):
    def __init__(self, transcoder: Transcoder | None = None, compressor=None, cipher=None):
        super().__init__(transcoder or NullTranscoder(), compressor=compressor, cipher=cipher)

    def to_stored_event(self, domain_event: Event) -> StoredEvent:  # type: ignore[override]
        state = _encoder.encode(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        topic = topic_of(type(domain_event))
        if self.cipher:
            state = self.cipher.encrypt(state, event_aad(topic))
        return StoredEvent(
            originator_id=domain_event.stream,
            originator_version=domain_event.version,
            topic=topic,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Event:  # type: ignore[override]
        return self.decode(stored_event.topic, stored_event.state)

    def decoder(self, topic: str, into: Mapping[type, type] | None = None) -> Callable[[bytes], Any]:
        """The function turning a stored state of `topic` into its event.

        It raises msgspec.DecodeError / ValidationError on a bad state, MapperDeserialisationError
        on an unknown topic. With `into`, an event type found there is decoded straight into the
        struct it maps to (the fields a view needs, no others), when the row has the current
        schema; an older one goes through the upcasters into the full event.
        """
        cls, version = parse_topic(topic)
        if version != cls.schema or self.compressor:
            return partial(self.decode, topic)
        target = into.get(cls, cls) if into else cls
        decode = _decoder_of(target).decode
        if self.cipher:
            decrypt, aad = self.cipher.decrypt, event_aad(topic)
            return lambda state: decode(decrypt(state, aad))
        return decode

    def decode(self, topic: str, state: bytes) -> Event:
        cls, version = parse_topic(topic)
        try:
            if self.cipher:
                state = self.cipher.decrypt(state, event_aad(topic))
            if self.compressor:
                state = self.compressor.decompress(state)
            if version == cls.schema:
                return (_decoders.get(cls) or _decoder_of(cls)).decode(state)
            data = msgspec.json.decode(state)
            while version < cls.schema:
                data = UPCASTERS[(cls.__name__, version)](data)
                version += 1
            return msgspec.convert(data, cls)
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError) as e:
            raise MapperDeserialisationError(f"cannot read stored {topic}: {e}") from e


def to_builtins(event: Event) -> dict[str, Any]:
    """The event's fields as JSON-ready values (dates as ISO strings)."""
    return msgspec.to_builtins(event)
