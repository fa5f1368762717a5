"""Guided dialogs as data: the schema of `knowledge/data/flows/*.yaml` (one flow per file).

A flow is a graph of nodes. The engine (dialogs.engine) waits at `question` and `text` nodes for
the user, shows `info` nodes and moves on, runs `action` nodes (named Python functions declared in
dialogs.actions; their result picks the next node), and ends at an `outcome` node, which always
names its sources: provisions of law and seed documents in the knowledge base's own source
format, or knowledge-base topics whose sources are shown with their answers.

Validation here is per file and strict (unknown keys are errors); the graph checks (reachability,
no dead ends, known actions) are in dialogs.flowcheck.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from common.yaml_safe import FAST_SAFE_LOADER
from dialogs import texts
from knowledge.model import Source

NODE_ID = r"^[a-z][a-z0-9_]*$"
FLOW_ID = r"^[a-z][a-z0-9_-]*$"
FIELD = r"^[a-z][a-z0-9_]*$"

FactValue = bool | str | None
# Choices are shown one per row when there are more than three, so ten still read on a phone.
MAX_CHOICES = 10


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Choice(Strict):
    """One button of a question. `value` "yes"/"no"/"unknown" also accept typed ja/nej/vet inte."""

    label: Annotated[str, Field(min_length=1, max_length=80)]
    value: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    next: str | None = None
    set: dict[str, FactValue] = {}  # facts for the assessment (None = unknown: removes it)


When = dict[str, str | bool | list[str]]  # vars (or facts.<name>) that must match to show


class Item(Strict):
    """A list item shown only when its `when` matches (e.g. the number to call, when known)."""

    text: Annotated[str, Field(min_length=3)]
    when: When = {}


class QuestionNode(Strict):
    kind: Literal["question"]
    text: Annotated[str, Field(min_length=3)]
    help: str | None = None
    notes: list[Item] = []  # shown under the help when their `when` matches (a number to call)
    choices: list[Choice] = []
    choices_from: Annotated[str, Field(pattern=FIELD)] | None = None  # dynamic: vars[name]
    field: Annotated[str, Field(pattern=FIELD)] | None = None  # remember the chosen value
    draft_heading: str | None = None  # include the chosen label in a report draft
    next: str | None = None
    # Where to go when the question cannot change the assessment (flows with skip_settled).
    skip_to: str | None = None
    style: Literal["default", "attention"] = "default"

    @model_validator(mode="after")
    def _choices(self) -> QuestionNode:
        if not self.choices and not self.choices_from:
            raise ValueError(texts().text("flowfile.choices_missing"))
        if self.choices_from and not self.field:
            raise ValueError(texts().text("flowfile.choices_from_field"))
        if len(self.choices) > MAX_CHOICES:
            raise ValueError(texts().text("flowfile.too_many_choices", max=MAX_CHOICES))
        values = [c.value for c in self.choices]
        if len(values) != len(set(values)):
            raise ValueError(texts().text("flowfile.choice_values"))
        for c in self.choices:
            if c.next is None and self.next is None:
                raise ValueError(texts().text("flowfile.choice_no_next", label=c.label))
        if self.choices_from and self.next is None:
            raise ValueError(texts().text("flowfile.choices_from_next"))
        return self


class TextNode(Strict):
    """A free-text field with short guidance (used for the report draft)."""

    kind: Literal["text"]
    text: Annotated[str, Field(min_length=3)]
    guidance: str | None = None
    placeholder: str | None = None
    field: Annotated[str, Field(pattern=FIELD)]
    optional: bool = True
    max_length: Annotated[int, Field(ge=20, le=4000)] = 2000
    check_personnummer: bool = True
    check_names: bool = True  # warn about a person's name (not for the user's own details)
    draft_heading: str | None = None
    quote: bool = False  # put the answer in quotation marks in the draft (the child's own words)
    next: str


class InfoNode(Strict):
    kind: Literal["info"]
    title: str | None = None
    text: Annotated[str, Field(min_length=3)]
    next: str


class ActionNode(Strict):
    kind: Literal["action"]
    action: str
    params: dict[str, Any] = {}
    next: str | dict[str, str]  # one node for every result, or result → node


class Section(Strict):
    heading: str | None = None
    text: str | None = None
    items: list[str | Item] = []
    numbered: bool = False
    when: When = {}  # vars that must match for the section to show
    more: bool = False  # shown behind "Visa mer" with the sources (a phone screen is short)

    @model_validator(mode="after")
    def _content(self) -> Section:
        if not self.text and not self.items:
            raise ValueError(texts().text("flowfile.section_empty"))
        return self


class Draft(Strict):
    """How a report draft is put together from the flow's answers (render: report_draft)."""

    title: str
    before: list[str] = []
    after: list[str] = []
    empty: str = "–"


Offer = Literal["why", "report", "back", "contacts", "restart", "menu", "concern", "sharing"]


class OutcomeNode(Strict):
    kind: Literal["outcome"]
    title: Annotated[str, Field(min_length=3)]
    text: str | None = None
    style: Literal["default", "attention", "good", "warning"] = "default"
    sections: list[Section] = []
    topics: list[str] = []  # knowledge-base topics shown with their own sources
    render: list[Literal["contacts", "report_draft"]] = []
    draft: Draft | None = None
    offer: list[Offer] = []
    sources: list[Source] = []

    @model_validator(mode="after")
    def _draft(self) -> OutcomeNode:
        if "report_draft" in self.render and self.draft is None:
            raise ValueError(texts().text("flowfile.draft_missing"))
        return self


Node = Annotated[
    QuestionNode | TextNode | InfoNode | ActionNode | OutcomeNode, Field(discriminator="kind")
]


class Flow(Strict):
    id: Annotated[str, Field(pattern=FLOW_ID)]
    title: Annotated[str, Field(min_length=3, max_length=80)]
    intro: str | None = None
    start: str
    # Holds what users tell about a child: only in a personal chat, never in a channel.
    private: bool = False
    # Delete the dialog state as soon as the outcome has been shown (the report draft).
    clear_on_finish: bool = False
    # Collaborators the flow cannot run without ("registry").
    requires: list[Literal["registry", "rules"]] = []
    # Ask a question that sets assessment facts only while some answer to it can still change
    # the assessment (dialogs.relevance); otherwise go on to its skip target.
    skip_settled: bool = False
    # Vars taken over when this flow is started from the outcome of another.
    carry: list[Annotated[str, Field(pattern=FIELD)]] = []
    # Vars every run of the flow starts with (e.g. purpose: report).
    vars: dict[Annotated[str, Field(pattern=FIELD)], bool | str | None] = {}
    nodes: dict[Annotated[str, Field(pattern=NODE_ID)], Node]

    @model_validator(mode="after")
    def _start(self) -> Flow:
        if self.start not in self.nodes:
            raise ValueError(texts().text("flowfile.no_start", start=self.start))
        return self


class FlowLoadError(Exception):
    def __init__(self, problems: list[tuple[str, str, str | None]]) -> None:
        # (file, message, where)
        self.problems = problems
        super().__init__("\n".join(f"{f}: {m}" + (f" [{w}]" if w else "") for f, m, w in problems))


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def flow_files(directory: Path) -> list[Path]:
    return sorted((directory / "flows").glob("*.yaml"))


def _where(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p[:1].isupper())]
    return ".".join(parts) or None


def parse_flow(path: Path, base: Path) -> tuple[Flow | None, list[tuple[str, str, str | None]]]:
    """Read and validate one flow file: (flow, problems)."""
    try:
        rel = str(path.relative_to(base))
    except ValueError:
        rel = str(path)
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=FAST_SAFE_LOADER)  # libyaml when available
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = texts().text("flowfile.line", line=mark.line + 1) if mark is not None else ""
        problem = getattr(exc, "problem", exc)
        return None, [(rel, texts().text("flowfile.bad_yaml", line=line, problem=problem), None)]
    except UnicodeDecodeError:
        return None, [(rel, texts().text("flowfile.not_utf8"), None)]
    if data is None:
        return None, [(rel, texts().text("flowfile.empty"), None)]
    try:
        return Flow.model_validate(data), []
    except ValidationError as exc:
        problems: list[tuple[str, str, str | None]] = []
        seen: set[tuple[str, str | None]] = set()
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = _where(loc)
            if err["type"] == "extra_forbidden":
                msg = texts().text("flowfile.unknown_key", key=loc[-1])
            elif err["type"] == "missing":
                msg = texts().text("flowfile.missing")
            elif err["type"] == "union_tag_invalid":
                msg = texts().text("flowfile.unknown_kind")
            else:
                msg = str(err["msg"]).removeprefix("Value error, ")
            if (msg, where) not in seen:
                seen.add((msg, where))
                problems.append((rel, msg, where))
        return None, problems


def load_flows(directory: Path) -> dict[str, Flow]:
    """Every flow of a knowledge-base directory; FlowLoadError lists every problem."""
    flows: dict[str, Flow] = {}
    problems: list[tuple[str, str, str | None]] = []
    for path in flow_files(directory):
        flow, errs = parse_flow(path, directory)
        problems.extend(errs)
        if flow is not None:
            if flow.id in flows:
                duplicate = texts().text("flowfile.duplicate", flow=flow.id)
                problems.append((path.name, duplicate, flow.id))
            flows[flow.id] = flow
    if problems:
        raise FlowLoadError(problems)
    return flows
