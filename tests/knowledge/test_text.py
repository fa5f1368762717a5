"""Swedish text analysis for search: folding, stemming, compounds, synonyms, typos, expansions."""

from __future__ import annotations

import pytest

from knowledge.text import Analyzer, Lexicon, fold, words


@pytest.fixture()
def analyzer() -> Analyzer:
    lexicon = Lexicon(
        stopwords=frozenset(
            ["och", "att", "jag", "om", "en", "hur", "gör", "för", "vad", "i", "till", "är"]
        ),
        equivalents=(
            ("soc", "socialen", "socialtjänsten"),
            ("orosanmälan", "anmälan om oro"),
            ("EHT", "elevhälsoteam"),
            ("elevhälsoteam", "elevvårdsteam"),  # shares a member with the group above
        ),
        expansions=(
            ("report", ("anmäla",)),
            ("borta från skolan", ("frånvaro",)),
            ("hemlig", ("sekretess",)),
        ),
    )
    a = Analyzer(lexicon)
    known = ["anmälan", "oro", "orosanmälan", "skyldighet", "vårdnadshavare", "frånvaro"]
    known += ["sekretess", "socialtjänsten", "elevhälsoteam", "hem", "skillnad", "anonym", "barn"]
    vocabulary = {a.term(w) for w in known}
    a.set_vocabulary(vocabulary, {"vårdnadshavare": 3, "orosanmälan": 2, "anonym": 1})
    return a


def test_fold_and_words() -> None:
    assert fold("Vårdnadshavare ÄR Österåker, café") == "vardnadshavare ar osteraker, cafe"
    assert words("Kan jag – som lärare – anmäla?! (EHT/soc)") == [
        "kan", "jag", "som", "lärare", "anmäla", "eht", "soc",
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("vårdnadshavarna", "vårdnadshavare"),
        ("anmälan", "anmäla"),
        ("anmälning", "anmäler"),
        ("anmälde", "anmält"),
        ("återkoppling", "återkoppla"),
        ("barnet", "barnen"),
        ("anonymt", "anonym"),
        ("konsultation", "konsultera"),
        ("maste", "måste"),  # no å/ä/ö on the keyboard
    ],
)
def test_forms_of_a_word_share_a_term(analyzer: Analyzer, a: str, b: str) -> None:
    assert analyzer.term(a) == analyzer.term(b)


def test_a_stem_that_is_a_stopword_keeps_the_word(analyzer: Analyzer) -> None:
    assert analyzer.term("väder") != "vad"


def test_compounds_split_into_known_parts(analyzer: Analyzer) -> None:
    oro, anmalan = analyzer.term("oro"), analyzer.term("anmälan")
    assert analyzer.split_compound("orosanmälan") == [oro, anmalan]
    assert analyzer.split_compound("anmälningsskyldighet") == [
        analyzer.term("anmälning"),
        analyzer.term("skyldighet"),
    ]
    assert analyzer.split_compound("lektionsplanering") == []  # parts unknown
    assert analyzer.split_compound("barn") == []  # too short to be a compound


def test_index_terms_add_parts_and_canonical_synonyms(analyzer: Analyzer) -> None:
    terms = dict(analyzer.index_terms("Gör en anmälan om oro till socialen"))
    canon_oro = next(t for t in terms if t.startswith("≡") and "oro" in t)
    assert terms[analyzer.term("anmälan")] == 1.0
    assert canon_oro in terms  # "anmälan om oro" ~ "orosanmälan"
    assert any(t.startswith("≡") and "soc" in t for t in terms)
    parts = dict(analyzer.index_terms("orosanmälan"))
    assert parts[analyzer.term("oro")] < 1.0  # a compound's part weighs less than a word


def test_groups_sharing_a_member_merge(analyzer: Analyzer) -> None:
    eht = {t for t, _ in analyzer.index_terms("EHT") if t.startswith("≡")}
    vard = {t for t, _ in analyzer.index_terms("elevvårdsteam") if t.startswith("≡")}
    assert eht and eht == vard


def test_concepts_drop_stopwords_and_match_synonyms(analyzer: Analyzer) -> None:
    concepts = analyzer.concepts("Hur gör jag en orosanmälan till soc?")
    assert [c.text for c in concepts] == ["orosanmälan", "soc"]
    soc = concepts[-1]
    assert any(t.startswith("≡") for t in soc.terms)
    oros = concepts[0]
    assert {analyzer.term("oro"), analyzer.term("anmälan")} <= oros.terms


def test_a_phrase_synonym_is_one_concept(analyzer: Analyzer) -> None:
    concepts = analyzer.concepts("anmälan om oro")
    assert len(concepts) == 1
    assert any(t.startswith("≡") for t in concepts[0].terms)


def test_typos_are_corrected_against_the_vocabulary(analyzer: Analyzer) -> None:
    assert analyzer.correct("vårdnadshavre") == "vardnadshavare"
    assert analyzer.correct("orosanmällan") == "orosanmalan"
    assert analyzer.correct("lunch") is None  # short words are not guessed at
    assert analyzer.correct("lektionsplanering") is None
    concept = analyzer.concepts("vårdnadshavre")[0]
    assert analyzer.term("vårdnadshavare") in concept.terms
    assert concept.known


def test_inflections_snowball_stems_apart_are_found(analyzer: Analyzer) -> None:
    # Snowball gives "skillnad" → "skilln" but "skillnaden" → "skillnad".
    assert analyzer.known_term("skillnaden") == analyzer.term("skillnad")


def test_expansions_are_one_way_and_matched_as_written(analyzer: Analyzer) -> None:
    report = analyzer.concepts("report")[0]
    assert analyzer.term("anmäla") in report.terms and report.known
    absent = analyzer.concepts("eleven är borta från skolan")
    assert any(analyzer.term("frånvaro") in c.terms for c in absent)
    # "hem" is not "hemlig" even though Snowball stems both to "hem".
    home = analyzer.concepts("hem")[0]
    assert analyzer.term("sekretess") not in home.terms
    # The knowledge base's own words do not expand.
    assert analyzer.term("report") not in dict(analyzer.index_terms("anmäla"))


def test_unknown_words_are_marked(analyzer: Analyzer) -> None:
    concepts = analyzer.concepts("lunch imorgon")
    assert concepts and not any(c.known for c in concepts)
