"""All user-facing Swedish text lives in the catalogues (issue 14), one YAML file per package:
`dialogs/messages.sv.yaml` (the conversation) and `<package>/texts.sv.yaml` (everything else).

1. No module of the product holds Swedish user text as a string literal: every string constant
   of every module is scanned with `ast` (docstrings, logger calls and dict keys aside).
2. Every key used in code exists in its catalogue with the placeholders the code fills, and
   every key of every catalogue is used.
3. The catalogue refuses unknown keys and wrong placeholders, and its file errors are clear.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from common.catalogue import Catalogue, MessageError, load_once, placeholders_of
from dialogs import MESSAGES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "cli", "bot", "samverkan", "dialogs", "contacts", "forums", "knowledge", "outbound", "storage",
    "common",
)

# --- 1. the scan for Swedish string literals ---------------------------------------------------

# Frequent Swedish words that are not English words (or hardly ever in code): one of them in a
# string of two words or more makes it Swedish. Words with å, ä or ö need no list.
_WORDS = """
    och eller inte som att det en ett av med till har kan ska skall finns saknas saknar ange
    anger använd skriv vara vad vem vilken vilket vilka hur varför ingen inget inga alla
    allt andra annan annat annars efter innan utan mellan om sedan redan bara minst högst
    dag dagar vecka tid tiden fel felet ogiltig ogiltigt ogiltiga okänd okänt okända filen
    fil fältet värdet raden rad kolumnen tabellen registret mötet möte barnet barnets skolan
    skola stadsdel stadsdelen kontakta ring hittar heter ditt dina jag du vi ni oss dig mig
    hej tack ja nej kanske hjälp meny avbryt tillbaka ringa skicka skickas sparas kunde
    kunna borde blir bli blev gick går gör göra får fick mottagningen socialtjänsten
    socialjouren anmälan orosanmälan kontaktperson regel regeln regler reglerna villkor
    villkoret faktum fakta källa källan källor lag lagen texten lista listan mappning heltal
    datum tidpunkt klockslag tidszon kalender inställningarna databasen boten tomt tomma nya
    nytt gamla igen nu här där mot skrev obs kap paragraf gav upp plats telefon chatt chatta
    personlig misslyckade leveranser skickade borttagna kanal kanalen skolor personer
    personen kommun kommuner stadsdelar samma prioritet fallet resultatet svaret reserverat
    ord ordlistan lagar versioner kontrollerade undantag tecken bygg namn validerat schemat
    kunskapsbasen katalogen konversationen
"""
SWEDISH_WORDS = frozenset(_WORDS.split())
_LETTERS = re.compile(r"[^\W\d_]+")
_SWEDISH_LETTER = re.compile(r"[åäöÅÄÖ]")
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)


def looks_swedish(value: str) -> bool:
    """A word with å/ä/ö (two letters or more), or two words or more (split at white space) of
    which one is a common Swedish word. Single letters ("å" in a folding table), identifiers
    and keys ("forum_id", "welcome.text") and English text are not Swedish."""
    letters = _LETTERS.findall(value)
    if any(len(w) >= 2 and _SWEDISH_LETTER.search(w) for w in letters):
        return True
    words = [t for t in value.split() if _LETTERS.search(t)]
    return len(words) >= 2 and any(w.lower() in SWEDISH_WORDS for w in letters)


def _is_logger_call(node: ast.Call) -> bool:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _LOG_METHODS:
        return False
    owner = ast.unparse(func.value).split(".")[-1].lower()
    return "log" in owner


class _SwedishLiterals(ast.NodeVisitor):
    """String constants (also the literal parts of f-strings) that look like Swedish text;
    docstrings, the arguments of logger calls and dict keys are left out."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self._skip: set[int] = set()

    def _docstring(self, node: ast.AST) -> None:
        body = getattr(node, "body", None)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self._skip.add(id(body[0].value))

    def visit_Module(self, node: ast.Module) -> None:
        self._docstring(node)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._docstring(node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._docstring(node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if _is_logger_call(node):
            for sub in ast.walk(node):
                self._skip.add(id(sub))
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            if key is not None:
                self._skip.add(id(key))
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        """An f-string is judged whole, its values as "{}": "rad {}: {}" is Swedish even
        though "rad " alone is one word."""
        if id(node) not in self._skip:
            template = "".join(
                str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values
            )
            if looks_swedish(template):
                self.found.append((node.lineno, template))
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                self.visit(value)

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self._skip or not isinstance(node.value, str):
            return
        if looks_swedish(node.value):
            self.found.append((node.lineno, node.value))


def swedish_literals(root: Path = ROOT) -> list[str]:
    """'path:line: text' for every Swedish-looking string literal of the product's modules."""
    out: list[str] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            visitor = _SwedishLiterals()
            visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            rel = path.relative_to(root)
            out.extend(f"{rel}:{line}: {text[:70]!r}" for line, text in sorted(visitor.found))
    return out


def test_the_heuristic_sees_swedish_and_nothing_else() -> None:
    assert looks_swedish("Öppet")
    assert looks_swedish("Ange skolan.")
    assert looks_swedish("rrule saknar FREQ (t.ex. FREQ=WEEKLY)")
    assert looks_swedish(" fel och kan inte användas.")
    assert not looks_swedish("å")
    assert not looks_swedish("Telefon")
    assert not looks_swedish("the contact card is larger than Teams accepts (28 KB)")
    assert not looks_swedish("forums.card.title")
    assert not looks_swedish("%(asctime)s %(levelname)s %(name)s: %(message)s")


def test_no_swedish_text_outside_the_catalogues() -> None:
    found = swedish_literals()
    assert not found, (
        f"{len(found)} Swedish string literal(s) in code; move them to the package's catalogue "
        "(texts.sv.yaml, or dialogs/messages.sv.yaml):\n" + "\n".join(found)
    )


# --- 2. every key used exists, with its placeholders; every key is used ------------------------

# Which catalogue a call reads: `msg.text(...)` / `messages.text(...)` the conversation's
# (injected); `texts().text(...)` (the package's accessor, also `_texts()`, `package_texts()`)
# and a `texts` variable (a card builder's parameter) the module's own package catalogue.
CONVERSATION = "dialogs/messages.sv.yaml"
CONVERSATION_RECEIVERS = ("msg", "messages")
METHODS = {"text": "text", "template": "text", "phrases": "list", "has": "any"}
# common/catalogue.py reads its own error texts without a catalogue object: `_error("empty")`
# is the key `catalogue.empty` of common/texts.sv.yaml, `_own_texts(…)["root"]` `catalogue.root`.
OWN_ERRORS = ("common/catalogue.py", "catalogue.")
_FILE_NAME = re.compile(r"\.(json|ya?ml|csv|py|ics|zip|png)$")


def catalogue_files() -> dict[str, Path]:
    """Every catalogue of the product: 'contacts/texts.sv.yaml' → its path."""
    files = {CONVERSATION: ROOT / CONVERSATION}
    for package in PACKAGES:
        path = ROOT / package / "texts.sv.yaml"
        if path.exists():
            files[f"{package}/texts.sv.yaml"] = path
    return files


def _own_catalogue(module: Path) -> str:
    package = module.relative_to(ROOT).parts[0]
    return CONVERSATION if package == "dialogs" else f"{package}/texts.sv.yaml"


def _receiver(node: ast.expr) -> str | None:
    """'own', 'conversation' or None (not a catalogue)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return "own" if node.func.id.endswith("texts") else None
    name = ast.unparse(node).split(".")[-1]
    if name in CONVERSATION_RECEIVERS:
        return "conversation"
    return "own" if name == "texts" else None


class _Uses(ast.NodeVisitor):
    """The catalogue reads of one module, per catalogue: literal keys with the keyword arguments
    given (None: `**values`, not checked), key prefixes of f-strings (`f"card.role.{kind}"`),
    calls whose key is a variable (their keyword arguments, per function) and key-like string
    constants (per function)."""

    def __init__(self, module: Path) -> None:
        self.module = module
        self.own = _own_catalogue(module)
        self.literal: list[tuple[str, str, str, set[str] | None, int]] = []  # cat, kind, key…
        self.prefixes: list[tuple[str, str, set[str] | None, int]] = []  # cat, prefix, kwargs
        self.dynamic: dict[str, list[set[str] | None]] = {}  # function → kwargs of calls
        self.constants: list[tuple[str, str, int]] = []  # function, key, line
        self.catalogues: set[str] = {self.own}
        self._func = "<module>"
        self._seen: set[int] = set()
        self._own_errors = str(module.relative_to(ROOT)) == OWN_ERRORS[0]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self._func = self._func, node.name
        self.generic_visit(node)
        self._func = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def _catalogue(self, receiver: str) -> str:
        if receiver == "conversation":
            self.catalogues.add(CONVERSATION)
            return CONVERSATION
        return self.own

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        kwargs: set[str] | None = {k.arg for k in node.keywords if k.arg is not None}
        if any(k.arg is None for k in node.keywords):
            kwargs = None
        first = node.args[0] if node.args else None
        receiver = _receiver(func.value) if isinstance(func, ast.Attribute) else None
        if isinstance(func, ast.Attribute) and func.attr in METHODS and receiver and first:
            cat = self._catalogue(receiver)
            kind = METHODS[func.attr]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                self.literal.append((cat, kind, first.value, kwargs, node.lineno))
                self._seen.add(id(first))
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                prefix = str(first.values[0].value)
                self.prefixes.append((cat, prefix, kwargs if kind == "text" else None, node.lineno))
                self._seen.add(id(first))
            else:
                self.dynamic.setdefault(self._func, []).append(kwargs if kind == "text" else None)
        if (
            self._own_errors
            and isinstance(func, ast.Name)
            and func.id == "_error"
            and isinstance(first, ast.Constant)
        ):
            key = OWN_ERRORS[1] + str(first.value)
            self.literal.append((self.own, "text", key, kwargs, node.lineno))
            self._seen.add(id(first))
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if (
            self._own_errors
            and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "_own_texts"
            and isinstance(node.slice, ast.Constant)
        ):
            key = OWN_ERRORS[1] + str(node.slice.value)
            self.literal.append((self.own, "text", key, set(), node.lineno))
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        """An f-string key outside a call (`key = f"validation.{kind}"`): a prefix."""
        if id(node) not in self._seen and node.values and isinstance(node.values[0], ast.Constant):
            prefix = str(node.values[0].value)
            if "." in prefix and " " not in prefix:
                self.prefixes.append((self.own, prefix, None, node.lineno))
        self._seen.update(id(v) for v in node.values if isinstance(v, ast.Constant))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if (
            id(node) not in self._seen
            and isinstance(value, str)
            and "." in value
            and " " not in value
            and not value.endswith(".")  # a prefix ("contacts.card."), not a key
            and not _FILE_NAME.search(value)  # "manifest.json"
        ):
            self.constants.append((self._func, value, node.lineno))


class _Catalogues:
    def __init__(self) -> None:
        self.files = catalogue_files()
        self.loaded = {name: Catalogue.load(path) for name, path in self.files.items()}
        self.sections = {
            name: {key.split(".")[0] for key in c.keys() | c.list_keys()}
            for name, c in self.loaded.items()
        }
        self.uses: list[_Uses] = []
        for package in PACKAGES:
            for path in sorted((ROOT / package).rglob("*.py")):
                uses = _Uses(path)
                uses.visit(ast.parse(path.read_text(encoding="utf-8")))
                self.uses.append(uses)


@pytest.fixture(scope="module")
def catalogues() -> _Catalogues:
    return _Catalogues()


def _button_actions() -> set[str]:
    """Button action names look like keys ("flow.start") but are not."""
    from dialogs import cards

    return {v for k, v in vars(cards).items() if k.isupper() and isinstance(v, str)}


def _where(uses: _Uses, line: int, key: str) -> str:
    return f"{uses.module.relative_to(ROOT)}:{line} {key}"


def test_every_literal_key_exists_and_its_placeholders_are_filled(
    catalogues: _Catalogues,
) -> None:
    problems: list[str] = []
    count = 0
    for uses in catalogues.uses:
        for cat, kind, key, kwargs, line in uses.literal:
            count += 1
            c = catalogues.loaded[cat]
            where = _where(uses, line, key) + f" ({cat})"
            if kind == "list":
                if key not in c.list_keys():
                    problems.append(f"{where}: no such list")
                continue
            if kind == "any":
                if not c.has(key):
                    problems.append(f"{where}: no such text or list")
                continue
            if key not in c.keys():  # noqa: SIM118
                problems.append(f"{where}: no such text")
            elif kwargs is not None and kwargs != placeholders_of(c.template(key)):
                needs = sorted(placeholders_of(c.template(key)))
                problems.append(f"{where}: gives {sorted(kwargs)}, needs {needs}")
    assert count > 600  # the scan really sees the code
    assert not problems, "\n".join(problems)


def test_keys_built_from_a_prefix_exist_and_fit_their_calls(catalogues: _Catalogues) -> None:
    literal = {(cat, key) for u in catalogues.uses for cat, _k, key, _kw, _l in u.literal}
    problems: list[str] = []
    for uses in catalogues.uses:
        for cat, prefix, kwargs, line in uses.prefixes:
            c = catalogues.loaded[cat]
            keys = sorted(k for k in c.keys() | c.list_keys() if k.startswith(prefix))
            if prefix.split(".")[0] not in catalogues.sections[cat]:
                continue  # not a key at all (an id, a path)
            if not keys:
                problems.append(f"{_where(uses, line, prefix + '…')}: no key starts so in {cat}")
            for key in keys:
                if kwargs is None or (cat, key) in literal or key in c.list_keys():
                    continue
                if kwargs != placeholders_of(c.template(key)):
                    needs = sorted(placeholders_of(c.template(key)))
                    problems.append(
                        f"{_where(uses, line, key)}: gives {sorted(kwargs)}, needs {needs}"
                    )
    assert not problems, "\n".join(problems)


def test_keys_taken_from_variables_exist_and_fit_their_calls(catalogues: _Catalogues) -> None:
    actions = _button_actions()
    problems: list[str] = []
    seen = 0
    for uses in catalogues.uses:
        module_calls = [kw for calls in uses.dynamic.values() for kw in calls]
        for func, key, line in uses.constants:
            if key in actions:
                continue
            candidates = [
                cat for cat in sorted(uses.catalogues)
                if key.split(".")[0] in catalogues.sections[cat]
            ]
            if not candidates:
                continue  # not a key (an id, a file name, a dotted field)
            seen += 1
            found = [cat for cat in candidates if catalogues.loaded[cat].has(key)]
            if not found:
                problems.append(f"{_where(uses, line, key)}: no such text in {candidates}")
                continue
            c = catalogues.loaded[found[0]]
            if key in c.list_keys():
                continue
            wanted = placeholders_of(c.template(key))
            calls = uses.dynamic.get(func) or module_calls
            if not calls:
                # Only shown as it is (a table of labels): no placeholders to fill.
                if wanted:
                    problems.append(f"{_where(uses, line, key)}: no call gives {sorted(wanted)}")
            elif not any(kw is None or kw == wanted for kw in calls):
                problems.append(f"{_where(uses, line, key)}: no call gives {sorted(wanted)}")
    assert seen > 40
    assert not problems, "\n".join(problems)


def test_every_catalogue_key_is_used(catalogues: _Catalogues) -> None:
    used: dict[str, set[str]] = {name: set() for name in catalogues.files}
    for uses in catalogues.uses:
        for cat, _kind, key, _kw, _line in uses.literal:
            used[cat].add(key)
        for cat, prefix, _kw, _line in uses.prefixes:
            c = catalogues.loaded[cat]
            used[cat] |= {k for k in c.keys() | c.list_keys() if k.startswith(prefix)}
        for _func, key, _line in uses.constants:
            for cat in uses.catalogues:
                used[cat].add(key)
    unused = {
        name: sorted((c.keys() | c.list_keys()) - used[name])
        for name, c in catalogues.loaded.items()
    }
    assert not any(unused.values()), {k: v for k, v in unused.items() if v}


def test_every_package_text_is_in_a_catalogue_of_its_own() -> None:
    """One catalogue per package, and the conversation's beside the dialogs."""
    names = set(catalogue_files())
    for package in ("cli", "bot", "samverkan", "contacts", "forums", "knowledge", "common"):
        assert f"{package}/texts.sv.yaml" in names
    assert CONVERSATION in names


# --- 3. the catalogue itself -------------------------------------------------------------------


@pytest.fixture(scope="module")
def conversation() -> Catalogue:
    return Catalogue.load(MESSAGES)


def test_text_refuses_unknown_keys_and_wrong_placeholders(conversation: Catalogue) -> None:
    with pytest.raises(MessageError):
        conversation.text("no.such.key")
    with pytest.raises(MessageError):
        conversation.text("forums.none")  # {days} missing
    with pytest.raises(MessageError):
        conversation.text("menu.title", extra=1)
    assert conversation.text("forums.none", days=30).startswith("Jag hittar inga")
    with pytest.raises(MessageError):
        conversation.phrases("menu.title")


def test_catalogue_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("a:\n  b: ''\n", encoding="utf-8")
    with pytest.raises(MessageError, match=r"a\.b: tom text"):
        Catalogue.load(bad)
    bad.write_text("a: 'Hej {0}'\n", encoding="utf-8")
    with pytest.raises(MessageError, match="enkelt namn"):
        Catalogue.load(bad)
    bad.write_text("yes: [ja]\n", encoding="utf-8")  # YAML 1.1 reads an unquoted yes as true
    with pytest.raises(MessageError, match="ogiltig nyckel"):
        Catalogue.load(bad)


def test_literal_braces_and_format_specs() -> None:
    c = Catalogue({"a": "t.ex. {{x}}", "b": "U+{code:04X}"}, {})
    assert c.text("a") == "t.ex. {x}"
    assert c.text("b", code=10) == "U+000A"


def test_replaced_gives_a_new_catalogue_and_keeps_placeholders() -> None:
    c = Catalogue({"a.b": "x {n}", "a.c": "y"}, {})
    other = c.replaced({"a.b": "z {n}"})
    assert other.text("a.b", n=1) == "z 1"
    assert c.text("a.b", n=1) == "x 1"  # unchanged
    assert other.section("a.") == {"a.b": "z {n}", "a.c": "y"}
    with pytest.raises(MessageError):
        c.replaced({"a.c": "y {n}"})  # another placeholder
    with pytest.raises(MessageError):
        c.replaced({"a.d": "new"})  # no such text


def test_every_catalogue_loads_once_and_is_the_same(catalogues: _Catalogues) -> None:
    for path in catalogues.files.values():
        assert load_once(path) is load_once(path)


def test_swedish_dates(conversation: Catalogue) -> None:
    assert conversation.date(date(2026, 1, 15)) == "15 januari 2026"
    assert conversation.date(date(2026, 11, 22)) == "22 november 2026"
