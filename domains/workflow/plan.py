"""A template's steps as plain data: what publishing checks, what a version stores, and the
step graph and assignee rules a running workflow follows.

Rules are written as the template's fields hold them: ``SUBJECT``, ``MANAGER``, ``HR`` or
``USER:<id>`` (a user's id, bare or global); an approval chain is such rules, comma-separated,
in order. Dependencies are step keys, comma-separated.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from domains.kernel.errors import Invalid
from domains.kernel.ids import from_global_id
from domains.workflow.model import AssigneeGroup, StepKind, WorkflowKind

MAX_DUE_OFFSET_DAYS = 365
MAX_STEPS = 100


class DueFrom(enum.Enum):
    """A step's due date is an offset from the workflow's start or from its due date."""

    START = "START"
    DUE = "DUE"


class RuleKind(enum.Enum):
    SUBJECT = "SUBJECT"
    MANAGER = "MANAGER"
    HR = "HR"
    USER = "USER"


class ProblemKind(enum.Enum):
    UNKNOWN_DOCUMENT_KIND = "UNKNOWN_DOCUMENT_KIND"
    UNRESOLVABLE_ASSIGNEE = "UNRESOLVABLE_ASSIGNEE"
    DEPENDENCY_CYCLE = "DEPENDENCY_CYCLE"
    MISSING_STEP = "MISSING_STEP"
    DUE_OFFSET_OUT_OF_RANGE = "DUE_OFFSET_OUT_OF_RANGE"
    DUPLICATE_STEP = "DUPLICATE_STEP"
    NO_STEPS = "NO_STEPS"


@dataclass(frozen=True)
class StepProblem:
    step: str
    kind: ProblemKind
    field: str
    message: str


class InvalidTemplate(Invalid):
    """What publishing found wrong, step by step (``problems`` keyed ``("steps", key, field)``)."""

    def __init__(self, found: Sequence[StepProblem]) -> None:
        self.found = list(found)
        problems: dict[tuple[str, ...], list[str]] = {}
        for p in self.found:
            problems.setdefault(("steps", p.step, p.field), []).append(p.message)
        super().__init__(problems)


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    user_id: uuid.UUID | None = None

    def text(self) -> str:
        return f"USER:{self.user_id}" if self.kind is RuleKind.USER else self.kind.value


def parse_rule(text: str) -> Rule:
    """A rule as written; ``ValueError`` with a sentence when it is not one."""
    head, _, rest = text.strip().partition(":")
    try:
        kind = RuleKind(head.strip().upper())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a rule (SUBJECT, MANAGER, HR or USER:<id>)") from None
    if kind is RuleKind.USER:
        if not rest.strip():
            raise ValueError("USER needs a user's id (USER:<id>)")
        _, user_id = from_global_id(rest.strip())
        return Rule(kind, user_id)
    if rest:
        raise ValueError(f"{kind.value} takes no id")
    return Rule(kind)


def split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


@dataclass(frozen=True)
class StepPlan:
    key: str
    title: str
    kind: StepKind
    document_kind: str | None = None
    assignee: Rule | None = None
    approvers: tuple[Rule, ...] = ()
    depends_on: tuple[str, ...] = ()
    reject_to: str | None = None
    due_from: DueFrom = DueFrom.DUE
    due_offset_days: int = 0

    def due_on(self, started: date, workflow_due: date) -> date:
        """Never before the workflow starts."""
        base = started if self.due_from is DueFrom.START else workflow_due
        return max(started, base + timedelta(days=self.due_offset_days))

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind.value,
            "documentKind": self.document_kind,
            "assignee": self.assignee.text() if self.assignee else None,
            "approvers": [r.text() for r in self.approvers],
            "dependsOn": list(self.depends_on),
            "rejectTo": self.reject_to,
            "dueFrom": self.due_from.value,
            "dueOffsetDays": self.due_offset_days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepPlan:
        return cls(
            key=data["key"],
            title=data["title"],
            kind=StepKind(data["kind"]),
            document_kind=data.get("documentKind"),
            assignee=parse_rule(data["assignee"]) if data.get("assignee") else None,
            approvers=tuple(parse_rule(r) for r in data.get("approvers", ())),
            depends_on=tuple(data.get("dependsOn", ())),
            reject_to=data.get("rejectTo"),
            due_from=DueFrom(data.get("dueFrom", "DUE")),
            due_offset_days=int(data.get("dueOffsetDays", 0)),
        )


@dataclass(frozen=True)
class Plan:
    kind: WorkflowKind
    title: str
    steps: tuple[StepPlan, ...]

    def definition(self) -> str:
        return json.dumps({"steps": [s.to_json() for s in self.steps]}, sort_keys=True)

    @classmethod
    def from_definition(cls, kind: WorkflowKind, title: str, definition: str) -> Plan:
        return cls(kind, title, tuple(StepPlan.from_json(s) for s in json.loads(definition)["steps"]))


class TemplateStepFields(Protocol):
    """What publishing reads of a template's step as HR wrote it (``WorkflowTemplateStep``)."""

    key: str
    title: str
    kind: StepKind
    document_kind: str | None
    assignee: str | None
    approvers: str | None
    depends_on: str | None
    reject_to: str | None
    due_from: DueFrom
    due_offset_days: int


def named_users(rows: Sequence[TemplateStepFields]) -> list[uuid.UUID]:
    """The users the rows' rules name (the ones publishing must find in the company)."""
    found: list[uuid.UUID] = []
    for row in rows:
        for text in (row.assignee or "", *split(row.approvers)):
            try:
                rule = parse_rule(text) if text else None
            except ValueError:
                continue
            if rule is not None and rule.user_id is not None:
                found.append(rule.user_id)
    return found


def plan_steps(
    rows: Sequence[TemplateStepFields], document_kinds: Iterable[str], company_people: Iterable[uuid.UUID]
) -> tuple[StepPlan, ...]:
    """The steps as a version stores them, or ``InvalidTemplate`` naming each broken step."""
    kinds, people = frozenset(document_kinds), frozenset(company_people)
    problems: list[StepProblem] = []
    if not rows:
        problems.append(StepProblem("", ProblemKind.NO_STEPS, "steps", "a template needs at least one step"))
    seen: set[str] = set()
    steps: list[StepPlan] = []
    for row in rows:
        key = row.key

        def problem(kind: ProblemKind, field: str, message: str, key: str = key) -> None:
            problems.append(StepProblem(key, kind, field, message))

        if key in seen:
            problem(ProblemKind.DUPLICATE_STEP, "key", f"another step is also called {key!r}")
        seen.add(key)
        if row.kind is StepKind.DOCUMENT and row.document_kind not in kinds:
            problem(
                ProblemKind.UNKNOWN_DOCUMENT_KIND,
                "documentKind",
                f"{row.document_kind!r} is not a document kind (one of {', '.join(sorted(kinds))})",
            )
        if not -MAX_DUE_OFFSET_DAYS <= row.due_offset_days <= MAX_DUE_OFFSET_DAYS:
            problem(
                ProblemKind.DUE_OFFSET_OUT_OF_RANGE,
                "dueOffsetDays",
                f"must be between -{MAX_DUE_OFFSET_DAYS} and {MAX_DUE_OFFSET_DAYS} days",
            )
        assignee: Rule | None = None
        approvers: list[Rule] = []
        if row.kind is StepKind.TASK:
            try:
                assignee = parse_rule(row.assignee or "")
            except ValueError as error:
                problem(
                    ProblemKind.UNRESOLVABLE_ASSIGNEE,
                    "assignee",
                    str(error) if row.assignee else "a task needs an assignee",
                )
            else:
                if assignee.kind is RuleKind.USER and assignee.user_id not in people:
                    problem(
                        ProblemKind.UNRESOLVABLE_ASSIGNEE, "assignee", f"user {assignee.user_id} is not of this company"
                    )
        if row.kind is StepKind.APPROVAL:
            texts = split(row.approvers)
            if not texts:
                problem(ProblemKind.UNRESOLVABLE_ASSIGNEE, "approvers", "an approval needs at least one approver")
            for text in texts:
                try:
                    rule = parse_rule(text)
                except ValueError as error:
                    problem(ProblemKind.UNRESOLVABLE_ASSIGNEE, "approvers", str(error))
                    continue
                if rule.kind is RuleKind.SUBJECT:
                    problem(ProblemKind.UNRESOLVABLE_ASSIGNEE, "approvers", "nobody approves a step about herself")
                elif rule.kind is RuleKind.USER and rule.user_id not in people:
                    problem(
                        ProblemKind.UNRESOLVABLE_ASSIGNEE, "approvers", f"user {rule.user_id} is not of this company"
                    )
                elif rule in approvers and rule.kind is not RuleKind.HR:
                    problem(ProblemKind.UNRESOLVABLE_ASSIGNEE, "approvers", f"{text} approves this step twice")
                else:
                    approvers.append(rule)
        steps.append(
            StepPlan(
                key=key,
                title=row.title,
                kind=row.kind,
                document_kind=row.document_kind if row.kind is StepKind.DOCUMENT else None,
                assignee=assignee,
                approvers=tuple(approvers),
                depends_on=split(row.depends_on),
                reject_to=(row.reject_to or None) if row.kind is StepKind.APPROVAL else None,
                due_from=row.due_from,
                due_offset_days=row.due_offset_days,
            )
        )
    problems.extend(graph_problems(steps))
    if problems:
        raise InvalidTemplate(problems)
    return tuple(steps)


def graph_problems(steps: Sequence[StepPlan]) -> list[StepProblem]:
    """Dependencies and rejection targets that name no step, and dependency cycles."""
    keys = {s.key for s in steps}
    problems: list[StepProblem] = []
    for s in steps:
        for dep in s.depends_on:
            if dep not in keys:
                problems.append(StepProblem(s.key, ProblemKind.MISSING_STEP, "dependsOn", f"no step is called {dep!r}"))
            elif dep == s.key:
                problems.append(StepProblem(s.key, ProblemKind.DEPENDENCY_CYCLE, "dependsOn", "depends on itself"))
        if s.reject_to is not None:
            if s.reject_to not in keys:
                problems.append(
                    StepProblem(s.key, ProblemKind.MISSING_STEP, "rejectTo", f"no step is called {s.reject_to!r}")
                )
            elif s.reject_to not in ancestors(steps, s.key):
                problems.append(
                    StepProblem(
                        s.key,
                        ProblemKind.MISSING_STEP,
                        "rejectTo",
                        f"{s.reject_to!r} is not a step this one depends on",
                    )
                )
    for key in in_cycles(steps):
        problems.append(StepProblem(key, ProblemKind.DEPENDENCY_CYCLE, "dependsOn", "its dependencies form a cycle"))
    return problems


def in_cycles(steps: Sequence[StepPlan]) -> list[str]:
    """The keys of steps on a dependency cycle (self-loops are reported on their own)."""
    graph = {s.key: [d for d in s.depends_on if d != s.key] for s in steps}
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    found: set[str] = set()

    def visit(key: str, path: list[str]) -> None:
        colour[key] = GREY
        path.append(key)
        for dep in graph.get(key, ()):
            if dep not in colour:
                continue
            if colour[dep] == GREY:
                found.update(path[path.index(dep) :])
            elif colour[dep] == WHITE:
                visit(dep, path)
        path.pop()
        colour[key] = BLACK

    for key in graph:
        if colour[key] == WHITE:
            visit(key, [])
    return [s.key for s in steps if s.key in found]


def ancestors(steps: Sequence[StepPlan], key: str) -> set[str]:
    by_key = {s.key: s for s in steps}
    found: set[str] = set()
    todo = list(by_key[key].depends_on) if key in by_key else []
    while todo:
        dep = todo.pop()
        if dep in found or dep not in by_key:
            continue
        found.add(dep)
        todo.extend(by_key[dep].depends_on)
    return found


def ready(dependencies: Mapping[str, Sequence[str]], done: Iterable[str]) -> list[str]:
    """The steps whose dependencies are all done, and that are not done themselves."""
    finished = set(done)
    return [key for key, deps in dependencies.items() if key not in finished and all(d in finished for d in deps)]


@dataclass(frozen=True)
class Assignee:
    user_id: uuid.UUID | None = None
    group: AssigneeGroup | None = None


class Directory(Protocol):
    """Who is who, as assignee rules need it (the composition root fills it from users)."""

    async def manager_of(self, user_id: uuid.UUID) -> uuid.UUID | None: ...


async def resolve(rule: Rule, subject_id: uuid.UUID, directory: Directory) -> Assignee:
    """Who a rule names for this subject now. A subject without a manager falls to HR."""
    if rule.kind is RuleKind.SUBJECT:
        return Assignee(user_id=subject_id)
    if rule.kind is RuleKind.USER:
        return Assignee(user_id=rule.user_id)
    if rule.kind is RuleKind.MANAGER:
        manager = await directory.manager_of(subject_id)
        if manager is not None:
            return Assignee(user_id=manager)
    return Assignee(group=AssigneeGroup.HR)
