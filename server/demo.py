"""The demo Network that `make run` seeds: believable CoPs in health and social care."""

from __future__ import annotations

DEMO_COMMUNITIES: tuple[tuple[str, str, str], ...] = (
    (
        "nursing_practice",
        "Nursing Practice",
        "Ward nurses, district nurses and students sharing what works on shift: handovers, "
        "safe staffing, wound care and the small things that make a long day kinder.",
    ),
    (
        "social_work",
        "Social Work Together",
        "Social workers in children's and adult services talking through **practice dilemmas**, "
        "supervision, and keeping relationships at the heart of the work.",
    ),
    (
        "patient_voices",
        "Patient Voices",
        "People who use services and their carers, telling it as it is. "
        "Professionals welcome: come to listen first.",
    ),
    (
        "dementia_care",
        "Dementia Care",
        "Carers, nurses and researchers on living well with dementia: activities, "
        "environments, and supporting families.",
    ),
    (
        "care_research",
        "Research into Practice",
        "Academics and practitioners turning research into everyday care. "
        "Share a paper, ask what it means on the ground.",
    ),
)
