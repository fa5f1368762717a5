"""Sources as users see them: human names with links to the public text.

"SoL (2025:400) 19 kap. 1 §" is the technical citation (the rule engine's reasons, `assess`
output, error messages: knowledge.loader.cite_law); users read "Socialtjänstlagen 19 kap. 1 §"
linked to the statute in Regeringskansliets rättsdatabas (or the link laws.yaml gives), and a
seed document as its `name` ("Östermalms rutin 2007"), never its file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge import texts
from knowledge.model import GuidanceSource, Law, LawSource, Seed, SeedSource

# The public text of a Swedish statute by its SFS number (Regeringskansliets rättsdatabaser).
SFST_URL = "https://rkrattsbaser.gov.se/sfst?bet={sfs}"
# A technical citation: "SoL (2025:400) 19 kap. 1 § 2 st." → abbreviation, SFS number, rest.
_TECHNICAL = re.compile(r"^(?P<abbr>\S+) \((?P<sfs>\d{4}:\d+)\)(?: (?P<rest>.*))?$")


@dataclass(frozen=True)
class Cited:
    """A source as shown: its label and, where there is one, a link."""

    label: str
    url: str | None = None

    def markdown(self) -> str:
        return f"[{self.label}]({self.url})" if self.url else self.label


def law_url(law: Law) -> str:
    return law.url or SFST_URL.format(sfs=law.sfs)


def provision(src: LawSource) -> str:
    """'19 kap. 1 §', '10 §§', '6 a kap. 10 § 2 st.' (without the law)."""
    para = src.paragraph
    sign = "§§" if ("–" in para or "-" in para) else "§"
    chapter = texts().text("cite.chapter", chapter=src.chapter) if src.chapter is not None else ""
    part = f" {src.part}" if src.part else ""
    return f"{chapter}{para} {sign}{part}"


def law_source(law: Law, src: LawSource) -> Cited:
    return Cited(f"{law.display} {provision(src)}", law_url(law))


def seed_source(seed: Seed) -> Cited:
    return Cited(seed.name, seed.url)


def source(
    src: SeedSource | LawSource | GuidanceSource, seeds: dict[str, Seed], laws: dict[str, Law]
) -> Cited:
    if isinstance(src, SeedSource):
        seed = seeds.get(src.seed)
        return seed_source(seed) if seed is not None else Cited(src.seed)
    if isinstance(src, GuidanceSource):
        return Cited(src.guidance, src.url)
    law = laws.get(src.law)
    if law is None:
        return Cited(f"{src.law} {provision(src)}")
    return law_source(law, src)


def reference(ref: str, seeds: dict[str, Seed], laws: dict[str, Law]) -> Cited:
    """A source as the rule engine gives it ('003', 'SoL (2025:400) 19 kap. 1 §', a guidance
    text) as users see it; anything not recognised is shown as it is."""
    seed = seeds.get(ref)
    if seed is not None:
        return seed_source(seed)
    m = _TECHNICAL.match(ref)
    if m is not None:
        for law in laws.values():
            if law.sfs == m["sfs"]:
                rest = f" {m['rest']}" if m["rest"] else ""
                return Cited(f"{law.display}{rest}", law_url(law))
    return Cited(ref)
