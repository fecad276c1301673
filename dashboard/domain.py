"""Domain vocabulary shared by every part: statuses and their transitions, sources, severities, levels."""

from __future__ import annotations

# Lifecycle (DESIGN §3). The codes are part of the API contract.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "reported": ("上报/受理", "Reported"),
    "accepted": ("立案", "Accepted"),
    "rejected": ("不予立案", "Rejected"),
    "dispatched": ("派遣", "Dispatched"),
    "in_progress": ("处置中", "In progress"),
    "resolved": ("处置完成", "Resolved"),
    "returned": ("返工", "Returned"),
    "closed": ("核查结案", "Closed"),
    "escalated": ("上报上级", "Escalated"),
}
STATUSES = tuple(STATUS_LABELS)
TERMINAL = frozenset({"closed", "rejected"})
OPEN_STATUSES = tuple(s for s in STATUSES if s not in TERMINAL)

# Where each status may go next. `escalated` may follow any open stage; after it the higher
# level carries on from the stage the case had reached (checked against the event's facts).
NEXT: dict[str, frozenset[str]] = {
    "reported": frozenset({"accepted", "rejected", "escalated"}),
    "accepted": frozenset({"dispatched", "escalated"}),
    "dispatched": frozenset({"dispatched", "in_progress", "escalated"}),
    "in_progress": frozenset({"resolved", "escalated"}),
    "resolved": frozenset({"closed", "returned"}),
    "returned": frozenset({"in_progress", "escalated"}),
    "escalated": frozenset({"accepted", "rejected", "dispatched", "in_progress", "escalated"}),
    "closed": frozenset(),
    "rejected": frozenset(),
}

SOURCE_LABELS: dict[str, tuple[str, str]] = {
    "grid": ("网格员巡查", "Grid patrol"),
    "hotline": ("12345热线", "12345 hotline"),
    "video": ("视频智能识别", "Video AI"),
    "iot": ("物联感知", "IoT sensors"),
    "citizen": ("群众随手拍", "Citizen app"),
    "department": ("部门移交", "Department transfer"),
}
SOURCES = tuple(SOURCE_LABELS)
RESIDENT_SOURCES = frozenset({"hotline", "citizen"})
SENSOR_SOURCES = frozenset({"video", "iot"})

SEVERITY_LABELS: dict[int, tuple[str, str]] = {
    1: ("一般", "General"),
    2: ("较大", "Serious"),
    3: ("重大", "Major"),
    4: ("特别重大", "Extraordinary"),
}

# Area levels, lowest first: escalation moves one step to the right.
LEVELS = ("grid", "community", "street", "district", "city")
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "city": ("市", "City"),
    "district": ("区/县", "District"),
    "street": ("街道/乡镇", "Street"),
    "community": ("社区/村", "Community"),
    "grid": ("网格", "Grid"),
}
# 就地化解: settled without leaving the street (the grid lies within its community).
GRASSROOTS_LEVELS = frozenset({"grid", "community", "street"})

SATISFACTION_LABELS: dict[str, tuple[str, str]] = {
    "satisfied": ("满意", "Satisfied"),
    "basically_satisfied": ("基本满意", "Basically satisfied"),
    "dissatisfied": ("不满意", "Dissatisfied"),
}
MEDIATION_RESULTS = ("success", "failed")
# 三调联动: the three kinds of mediation that work together on a dispute.
MEDIATION_TYPES: dict[str, tuple[str, str]] = {
    "people": ("人民调解", "People's mediation"),
    "administrative": ("行政调解", "Administrative mediation"),
    "judicial": ("司法调解", "Judicial mediation"),
}

STAFF_ROLE_LABELS: dict[str, tuple[str, str]] = {
    "grid_fulltime": ("专职网格员", "Full-time grid worker"),
    "grid_parttime": ("兼职网格员", "Part-time grid worker"),
    "social_worker": ("社工", "Social worker"),
    "mediator": ("人民调解员", "People's mediator"),
    "governance_officer": ("综治专干", "Governance officer"),
    "it_admin": ("网络技术管理员", "Network admin"),
}
STAFF_STATUS_LABELS = {
    # the employment status of the roster; who is on duty now is dashboard.duty's
    "on_duty": ("在职", "In post"),
    "leave": ("请假", "On leave"),
    "off": ("离岗", "Left"),
}
ACTIVITY_LABELS: dict[str, tuple[str, str]] = {
    "consultation": ("协商议事", "Community consultation"),
    "moral_lecture": ("道德讲堂", "Moral lecture"),
    "legal_education": ("普法宣传", "Legal education"),
    "volunteer": ("志愿服务", "Volunteer service"),
    "model_selection": ("模范评选", "Model citizen selection"),
}


def allowed_next(status: str) -> frozenset[str]:
    return NEXT.get(status, frozenset())


def next_level(level: str) -> str:
    i = LEVELS.index(level)
    return LEVELS[min(i + 1, len(LEVELS) - 1)]


# Each timed step (DESIGN §5): the fact that meets it, its deadline, and when it falls due (the
# earlier of the two; the KPIs count the step in the period that holds that moment).
STEP_FACTS = {
    "accept": ("decided_at", "accept_deadline", "accept_due_at"),
    "dispatch": ("dispatched_at", "dispatch_deadline", "dispatch_due_at"),
    "handle": ("resolved_at", "handle_deadline", "handle_due_at"),
    "close": ("closed_at", "close_deadline", "close_due_at"),
}
