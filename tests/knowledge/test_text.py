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
            ("folkbokförd", "mantalsskriven"),
        ),
        expansions=(
            ("report", ("anmäla",)),
            ("borta från skolan", ("frånvaro",)),
            ("hemlig", ("sekretess",)),
            ("skriven i", ("folkbokförd",)),
        ),
        outside=("betyg", "anmäla mig"),
        common=("lärare", "idag"),
    )
    a = Analyzer(lexicon)
    known = ["anmälan", "oro", "orosanmälan", "skyldighet", "vårdnadshavare", "frånvaro"]
    known += ["sekretess", "socialtjänsten", "elevhälsoteam", "hem", "skillnad", "anonym", "barn"]
    known += ["lärare", "skriva", "folkbokförd", "blankett", "bor"]
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


def test_outside_words_and_phrases_are_never_matched(analyzer: Analyzer) -> None:
    grades = analyzer.concepts("Hur sätter jag betygen i slutbetyget?")
    outside = [c for c in grades if not c.alternatives]
    assert [c.text for c in outside] == ["betygen", "slutbetyget"]  # compounds too
    assert not any(c.known for c in outside)
    course = analyzer.concepts("hur anmäla mig till kursen")
    assert course[0].text == "anmäla mig" and not course[0].alternatives
    # "anmäla" on its own is the bot's word.
    assert analyzer.concepts("ska jag anmäla")[0].alternatives


def test_unknown_capitalised_words_inside_a_sentence_are_names(analyzer: Analyzer) -> None:
    concepts = analyzer.concepts("Barnet bor i Täby, vart anmäler jag?")
    names = [c.text for c in concepts if c.name]
    assert names == ["täby"]
    # Not at the start of a sentence, not abbreviations, not known words.
    assert not any(c.name for c in analyzer.concepts("Täby. Sekretess gäller EHT"))
    assert not any(c.name for c in analyzer.concepts("Vad gäller för Sekretess?"))


def test_everyday_school_words_are_marked_common(analyzer: Analyzer) -> None:
    concepts = {c.text: c.common for c in analyzer.concepts("Vilka lärare har anmält idag?")}
    assert concepts["lärare"] and concepts["idag"]
    assert not concepts["anmält"]


def test_registered_is_not_writes(analyzer: Analyzer) -> None:
    """ "skriven i Solna" means registered there; "skriver" (writes) shares its stem only."""
    registered = analyzer.concepts("Eleven är skriven i Solna")
    assert any(analyzer.term("folkbokförd") in c.terms for c in registered)
    writes = analyzer.concepts("Vad skriver jag i anmälan?")
    assert not any(
        t.startswith("≡") and "folkbok" in t for c in writes for t in c.terms
    )


def test_a_word_found_by_its_stem_must_be_spelt_like_the_synonym() -> None:
    # "informationen" is a form of "information" (facts); "informera" (to tell) only shares
    # its stem.
    a = Analyzer(Lexicon(equivalents=(("uppgifter", "information"),)))
    assert a.term("informera") == a.term("information")
    assert any(t.startswith("≡") for t in a.concepts("informationen")[0].terms)
    assert not any(t.startswith("≡") for t in a.concepts("informera")[0].terms)


def test_a_stopword_without_its_ring_is_a_word_when_the_knowledge_base_uses_it() -> None:
    # "vårt" (our) without å is "vart" (where to), "bör" (should) without ö is "bor" (lives).
    lexicon = Lexicon(stopwords=frozenset(["vårt", "bör", "någon"]))
    a = Analyzer(lexicon, words_in_use={"vart", "bor", "anmälan"})
    assert a.is_stopword("vårt") and a.is_stopword("bör") and a.is_stopword("någon")
    assert not a.is_stopword("vart") and not a.is_stopword("bor")
    assert a.is_stopword("nagon")  # typed without å, and no word of its own
