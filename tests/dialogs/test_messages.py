"""The message catalogue: every key used in code exists, every placeholder is filled, every key of
the catalogue is used, and wrong use fails loudly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from dialogs import cards
from dialogs.messages import DEFAULT_PATH, MessageError, Messages, placeholders_of

ROOT = Path(__file__).resolve().parents[2]
# The modules that read the catalogue (the card builders of other modules keep their own TEXTS).
MODULES = [
    ROOT / "dialogs" / name
    for name in (
        "router.py",
        "engine.py",
        "answers.py",
        "actions.py",
        "cards.py",
        "flows.py",
        "state.py",
        "messages.py",
    )
] + [ROOT / "bot" / "handler.py", ROOT / "cli" / "commands" / "chat.py"]
RECEIVERS = ("msg", "messages")
METHODS = {"text": "text", "template": "text", "phrases": "list"}


def _button_actions() -> set[str]:
    """Button action names look like keys ("flow.start") but are not."""
    return {v for k, v in vars(cards).items() if k.isupper() and isinstance(v, str)}


class _Uses(ast.NodeVisitor):
    """Catalogue calls per function: literal keys with their keyword arguments, calls with a
    key from a variable, and key-like string constants."""

    def __init__(self, sections: set[str], receivers: tuple[str, ...]) -> None:
        self.sections = sections
        self.receivers = receivers
        self.literal: list[tuple[str, str, set[str] | None, int]] = []  # kind, key, kwargs, line
        self.dynamic: dict[str, list[set[str] | None]] = {}  # function → kwargs of calls
        self.constants: dict[str, list[tuple[str, int]]] = {}  # function → (key, line)
        self._func = "<module>"
        self._in_literal_call: set[int] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self._func = self._func, node.name
        self.generic_visit(node)
        self._func = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in METHODS
            and ast.unparse(func.value).split(".")[-1] in self.receivers
            and node.args
        ):
            kwargs: set[str] | None = {k.arg for k in node.keywords if k.arg is not None}
            if any(k.arg is None for k in node.keywords):
                kwargs = None  # **values: cannot be checked statically
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                self.literal.append((METHODS[func.attr], first.value, kwargs, node.lineno))
                self._in_literal_call.add(id(first))
            else:
                self.dynamic.setdefault(self._func, []).append(kwargs)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if (
            id(node) not in self._in_literal_call
            and isinstance(node.value, str)
            and "." in node.value
            and " " not in node.value
            and not node.value.endswith(".")  # a prefix ("contacts.card."), not a key
            and node.value.split(".")[0] in self.sections
        ):
            self.constants.setdefault(self._func, []).append((node.value, node.lineno))


@pytest.fixture(scope="module")
def catalogue() -> Messages:
    return Messages.load()


def _uses(catalogue: Messages) -> list[tuple[Path, _Uses]]:
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    out = []
    for path in MODULES:
        # Messages itself reads its own keys (dates) through `self`.
        receivers = (*RECEIVERS, "self") if path.name == "messages.py" else RECEIVERS
        visitor = _Uses(set(raw), receivers)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        out.append((path, visitor))
    return out


def test_every_literal_key_exists_and_its_placeholders_are_filled(catalogue: Messages) -> None:
    problems: list[str] = []
    count = 0
    for path, uses in _uses(catalogue):
        for kind, key, kwargs, line in uses.literal:
            count += 1
            where = f"{path.name}:{line} {key}"
            if kind == "list":
                if key not in catalogue.list_keys():
                    problems.append(f"{where}: no such list")
                continue
            if key not in catalogue.keys():  # noqa: SIM118
                problems.append(f"{where}: no such text")
            elif kwargs is not None and kwargs != placeholders_of(catalogue.template(key)):
                needs = sorted(placeholders_of(catalogue.template(key)))
                problems.append(f"{where}: gives {sorted(kwargs)}, needs {needs}")
    assert count > 100  # the scan really sees the code
    assert not problems, "\n".join(problems)


def test_keys_taken_from_variables_exist_and_fit_their_calls(catalogue: Messages) -> None:
    actions = _button_actions()
    problems: list[str] = []
    seen = 0
    for path, uses in _uses(catalogue):
        for func, constants in uses.constants.items():
            for key, line in constants:
                if key in actions:
                    continue
                seen += 1
                where = f"{path.name}:{line} {key}"
                if key in catalogue.list_keys():
                    continue
                if key not in catalogue.keys():  # noqa: SIM118
                    problems.append(f"{where}: no such text")
                    continue
                wanted = placeholders_of(catalogue.template(key))
                calls = uses.dynamic.get(func, [])
                if func == "<module>" or not calls:
                    # Module-level tables are used with no values at all.
                    if wanted:
                        problems.append(f"{where}: used from a table but needs {sorted(wanted)}")
                elif not any(kw is None or kw == wanted for kw in calls):
                    problems.append(f"{where}: no call in {func}() gives {sorted(wanted)}")
    assert seen > 20
    assert not problems, "\n".join(problems)


def test_every_catalogue_key_is_used(catalogue: Messages) -> None:
    used: set[str] = set()
    for _path, uses in _uses(catalogue):
        used |= {key for _k, key, _kw, _l in uses.literal}
        used |= {key for consts in uses.constants.values() for key, _l in consts}
    unused = sorted((catalogue.keys() | catalogue.list_keys()) - used)
    # Keys other modules added to the catalogue at runtime are not in the YAML file.
    raw_keys = Messages.load().keys() | Messages.load().list_keys()
    assert not [k for k in unused if k in raw_keys], f"unused keys: {unused}"


def test_text_refuses_unknown_keys_and_wrong_placeholders(catalogue: Messages) -> None:
    with pytest.raises(MessageError):
        catalogue.text("no.such.key")
    with pytest.raises(MessageError):
        catalogue.text("forums.none")  # {days} missing
    with pytest.raises(MessageError):
        catalogue.text("menu.title", extra=1)
    assert catalogue.text("forums.none", days=30).startswith("Jag hittar inga")
    with pytest.raises(MessageError):
        catalogue.phrases("menu.title")


def test_catalogue_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("a:\n  b: ''\n", encoding="utf-8")
    with pytest.raises(MessageError, match=r"a\.b: tom text"):
        Messages.load(bad)
    bad.write_text("a: 'Hej {0}'\n", encoding="utf-8")
    with pytest.raises(MessageError, match="enkelt namn"):
        Messages.load(bad)
    bad.write_text("yes: [ja]\n", encoding="utf-8")  # YAML 1.1 reads an unquoted yes as true
    with pytest.raises(MessageError, match="ogiltig nyckel"):
        Messages.load(bad)


def test_extend_keeps_existing_texts(catalogue: Messages) -> None:
    m = Messages({"a.b": "x"}, {})
    m.extend({"a.c": "y"})
    assert m.text("a.c") == "y"
    m.extend({"a.b": "x"})  # same text again is fine
    with pytest.raises(MessageError):
        m.extend({"a.b": "z"})
    assert m.section("a.") == {"a.b": "x", "a.c": "y"}


def test_swedish_dates(catalogue: Messages) -> None:
    from datetime import date

    assert catalogue.date(date(2026, 1, 15)) == "15 januari 2026"
    assert catalogue.date(date(2026, 11, 22)) == "22 november 2026"
