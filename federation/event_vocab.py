"""What building an `Event` (federation.event_documents) and reading one
(federation.event_parsing) share: its JSON-LD context, statuses, categories and `Place`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from federation.vocab import AS_CONTEXT

MOBILIZON_NS = "https://joinmobilizon.org/ns#"
SCHEMA_NS = "http://schema.org#"  # sic: Mobilizon's spelling, kept so its terms expand alike
ICAL_NS = "http://www.w3.org/2002/12/cal/ical#"
FEP_8A8E_NS = "https://w3id.org/fep/8a8e/"

# Inline term definitions only: a remote context URL would make JSON-LD processors (Fedify)
# fetch it, and fail where there is no network.
EVENT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sc": SCHEMA_NS,
        "mz": MOBILIZON_NS,
        "ical": ICAL_NS,
        "pt": "https://joinpeertube.org/ns#",
        "fep": FEP_8A8E_NS,
        "PostalAddress": "sc:PostalAddress",
        "VirtualLocation": "sc:VirtualLocation",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "addressCountry": "sc:addressCountry",
        "addressLocality": "sc:addressLocality",
        "addressRegion": "sc:addressRegion",
        "postalCode": "sc:postalCode",
        "streetAddress": "sc:streetAddress",
        "location": {"@id": "sc:location", "@type": "sc:Place"},
        "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
        "isOnline": {"@id": "mz:isOnline", "@type": "sc:Boolean"},
        "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
        "participantCount": {"@id": "mz:participantCount", "@type": "sc:Integer"},
        "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
        "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
        "anonymousParticipationEnabled": {
            "@id": "mz:anonymousParticipationEnabled",
            "@type": "sc:Boolean",
        },
        "commentsEnabled": {"@id": "pt:commentsEnabled", "@type": "sc:Boolean"},
        "category": "sc:category",
        "inLanguage": "sc:inLanguage",
        "contacts": {"@id": "mz:contacts", "@type": "@id"},
        "organizers": {"@id": "fep:organizers", "@type": "@id"},
        "attendees": {"@id": "fep:attendees", "@type": "@id"},
        "eventStatus": {"@id": "fep:eventStatus", "@type": "@vocab"},
        "EventScheduled": "fep:EventScheduled",
        "EventCancelled": "fep:EventCancelled",
        "EventTentative": "fep:EventTentative",
    },
]

CONFIRMED, CANCELLED, TENTATIVE = "CONFIRMED", "CANCELLED", "TENTATIVE"
FEP_STATUS = {
    CONFIRMED: "EventScheduled",
    CANCELLED: "EventCancelled",
    TENTATIVE: "EventTentative",
}
STATUS_FROM_FEP = {value: key for key, value in FEP_STATUS.items()}
# FEP-8a8e's recommended categories (a subset that fits health and social care, plus Mobilizon's).
CATEGORIES = (
    "MEETING",
    "LEARNING",
    "WORKSHOPS_SKILL_SHARING",
    "NETWORKING",
    "COMMUNITY",
    "CAUSES",
    "MEDITATION_WELLBEING",
    "SCIENCE_TECH",
    "BUSINESS",
    "INCLUSIVE_SPACES",
)


@dataclass(frozen=True)
class Place:
    """A physical venue: a name and a postal address, with coordinates when known."""

    name: str = ""
    street_address: str = ""
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing about the place is known."""
        return not (self.name or self.street_address or self.locality or self.postal_code)

    def one_line(self) -> str:
        """Name and address as one line of text."""
        address = (self.street_address, self.locality, self.region, self.postal_code)
        parts = [self.name, *(part for part in address if part)]
        return ", ".join(part for part in parts if part)
