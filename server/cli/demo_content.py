"""Words for the demo Network: members, and threads with replies, in health and social care."""

from __future__ import annotations

# (name, display name, bio)
DEMO_MEMBERS: tuple[tuple[str, str, str], ...] = (
    ("amara", "Amara Okafor", "District nurse in Leeds. Wound care, long-term conditions."),
    (
        "tom",
        "Tom Whitfield",
        "Social worker, adult services. Interested in strengths-based practice.",
    ),
    ("priya", "Dr Priya Raman", "Lecturer in nursing research. Turning evidence into practice."),
    (
        "gwen",
        "Gwen Lloyd",
        "Carer for my mum, who has vascular dementia. Here to learn and to share.",
    ),
    ("sam", "Sam Osei", "Student nurse, third year. Asking a lot of questions."),
)

# CoP name -> threads: (author, days ago, title, body, replies); a reply is (author, body, replies)
DEMO_THREADS: dict[str, tuple] = {
    "nursing_practice": (
        (
            "amara",
            12,
            "Night shift handovers that actually work",
            "We moved to a structured SBAR handover at the bedside last month. Fewer things "
            "missed, but it takes longer. **How do you keep handover under 30 minutes?**",
            (
                (
                    "sam",
                    "On my placement ward they printed a one-page summary per patient and "
                    "only talked about what changed. It felt rushed at first.",
                    (
                        (
                            "amara",
                            "That's a good idea: talk about the *changes*, read the rest.",
                            (),
                        ),
                    ),
                ),
                (
                    "priya",
                    "There is a 2023 review on bedside handover and patient involvement; "
                    "patients liked hearing the plan. Happy to share the reference.",
                    (),
                ),
            ),
        ),
        (
            "sam",
            5,
            "First placement in the community: what should I read?",
            "I start with the district nursing team next week. Any advice on what to read "
            "beforehand, or what to ask on day one?",
            (("amara", "Come curious. Ask to see a caseload review, and bring good shoes.", ()),),
        ),
    ),
    "social_work": (
        (
            "tom",
            9,
            "Strengths-based assessments under time pressure",
            "Our team is being asked to do strengths-based conversations, but caseloads are "
            "at 30+. Has anyone found a way to keep the conversation human when the clock is "
            "running?",
            (
                (
                    "gwen",
                    "From the other side of the table: the assessments that helped my mum "
                    "were the ones where someone asked what a good day looks like.",
                    (("tom", "Thank you Gwen, that question is going on a sticky note.", ()),),
                ),
            ),
        ),
    ),
    "patient_voices": (
        (
            "gwen",
            3,
            "What I wish the hospital had told us at discharge",
            "Mum came home after a fall with a bag of tablets and no plan. "
            "These are the five things I wish someone had told us.",
            (
                (
                    "amara",
                    "This is really useful. Would you be willing to share it with our "
                    "discharge team?",
                    (),
                ),
            ),
        ),
    ),
    "dementia_care": (
        (
            "gwen",
            20,
            "Music and sundowning",
            "Playing Mum's old records around 4pm has calmed the late-afternoon agitation. "
            "Has anyone else tried this?",
            (
                (
                    "priya",
                    "There is decent evidence for personalised music playlists; "
                    "the 'Playlist for Life' approach is worth a look.",
                    (),
                ),
                ("sam", "We did this on a ward with headphones. It helped at mealtimes too.", ()),
            ),
        ),
    ),
    "care_research": (
        (
            "priya",
            7,
            "Journal club: falls prevention in care homes",
            "This month's paper looks at multifactorial falls prevention in care homes. "
            "What would it take to do this where you work?",
            (("tom", "Staffing, honestly. The interventions are sensible.", ()),),
        ),
    ),
}

# CoP name -> the member who moderates it
DEMO_MODERATORS = {
    "nursing_practice": "amara",
    "patient_voices": "gwen",
    "social_work": "tom",
    "dementia_care": "gwen",
    "care_research": "priya",
}

DEMO_DOCUMENTS: tuple[tuple[str, str, str, str, str], ...] = (
    # (CoP, uploader, title, description, markdown body stored as the file)
    (
        "nursing_practice",
        "amara",
        "SBAR handover template",
        "The one-page template our ward uses for bedside handover.",
        "# SBAR handover\n\n**Situation** — who, where, why now\n\n**Background** — history, "
        "relevant results\n\n**Assessment** — what you think is going on\n\n"
        "**Recommendation** — what needs to happen next, and by when\n",
    ),
    (
        "dementia_care",
        "gwen",
        "Discharge checklist for families",
        "Five questions to ask before someone with dementia comes home from hospital.",
        "# Before discharge, ask\n\n1. Who do we call at night?\n2. What changed in the "
        "medication, and why?\n3. Is there a follow-up appointment?\n4. What equipment is "
        "needed at home?\n5. Who tells the GP?\n",
    ),
)
