"""The linker's configuration: thresholds and the m/u probabilities of every comparison level.

One frozen dataclass of plain numbers, so the pipeline can load it from the YAML config like the other
sections. A level's match weight is log2(m / u) (Fellegi–Sunter): m is the probability of the level
among true matches, u among non-matches. The field for level `L` of comparison `C` is named `C_L`
(`name_same_pinyin`); the levels themselves, and what they mean in SQL, are declared in
`matching/comparisons.py`. What does not belong here: SQL, and anything the linker computes.
"""

from dataclasses import dataclass, fields
from math import log2

MU = tuple[float, float]


@dataclass(frozen=True)
class LinkSettings:
    # A candidate whose summed match weight (bits) reaches this is linked ...
    accept_threshold: float = 16.0
    # ... from this up to the accept threshold it goes to the review queue (核查), below it stays unlinked.
    review_threshold: float = 8.0
    # A record whose ID says nothing (lost, or another person's) has only name, birth date and sex: its best
    # candidate goes to review from this score (a similar-shape typo 形近字 scores like a sibling's name).
    review_threshold_without_id: float = 4.0
    # Two persons whose best scores for one record lie within this many bits are a tie: review, no link.
    ambiguity_margin: float = 3.0
    # RapidFuzz normalized Indel similarity (0..1) from which two names count as `similar`.
    name_similarity_min: float = 0.6

    # citizen ID of the record vs the person's ID (m, u)
    id_exact: MU = (0.95, 1e-7)
    id_checksum_only: MU = (0.01, 1e-6)  # first 17 equal, check character differs
    id_one_substitution: MU = (0.01, 1e-5)  # one digit mistyped
    id_adjacent_swap: MU = (0.005, 1e-6)  # two adjacent digits swapped
    id_excel_prefix: MU = (0.01, 4e-5)  # the digits Excel kept are the person's ID prefix
    # a second valid ID agreeing on region and birth date (only the sequence differs): one person under two
    # IDs is rare among matches (m), two strangers sharing region and birth date far rarer (u: about one in
    # regions × birth dates, ~1e-6 in a city; 1e-5 leaves room). With the exact name alone it reaches the
    # accept threshold; namesakes from other regions never share the key.
    id_same_region_birth_date: MU = (0.01, 1e-5)
    # ... numbered one or two after the other under another name (twins): a little against — the name, birth
    # date and sex decide, and no name short of an exact one (梓涵/梓晗, 梓?/梓涵) reaches the accept threshold
    id_adjacent_sequence: MU = (0.001, 0.002)
    # the record's valid ID is another person's (a housemate's typed by mistake): neutral for any candidate
    id_another_persons_id: MU = (0.01, 0.01)
    id_both_valid_different: MU = (0.001, 0.9)  # two valid IDs: two real people
    id_different: MU = (0.02, 0.98)  # an ID present but not close

    # name (姓名)
    name_exact: MU = (0.85, 0.001)
    name_alias: MU = (0.02, 0.0001)  # a bracketed 曾用名 / note matches the other name
    # the same name but for a 生僻字 placeholder (王?伟 / 王喆伟): every character the system could write agrees,
    # one is unknown — below an exact name; with a birth date and sex it links a lost ID when no other person
    # agrees as well (a tie goes to review), with a second ID's region and birth date it links in 社保缴费 (no
    # birth date there). A name of one known character (李?) is compared as missing (`name_features.py`).
    name_unknown_char: MU = (0.01, 0.00008)
    name_same_pinyin: MU = (0.05, 0.002)  # homophone typo (同音字)
    name_dropped_char: MU = (0.02, 0.001)  # one name is the other minus one character
    name_one_char_differs: MU = (0.01, 0.12)  # a shape typo (形近字), or a sibling or twin: weak against
    name_similar: MU = (0.02, 0.005)
    name_different: MU = (0.005, 0.9)  # no shared character, different pinyin: another person
    name_partial: MU = (0.01, 0.06)

    # birth date (the record's own column vs the date in the person's ID)
    birth_date_exact: MU = (0.95, 0.003)
    birth_date_one_component: MU = (0.03, 0.05)  # year, month or day differs
    birth_date_different: MU = (0.02, 0.947)

    # sex (性别; the person's from the ID)
    sex_agree: MU = (0.98, 0.5)
    sex_disagree: MU = (0.02, 0.5)

    # 低保 household head (a head's row vs the household's 户主身份证号): the row states whose it is
    household_head_agree: MU = (0.95, 0.0005)
    household_head_disagree: MU = (0.05, 0.9995)

    def __post_init__(self) -> None:
        if not self.review_threshold_without_id <= self.review_threshold <= self.accept_threshold:
            raise ValueError("review_threshold_without_id <= review_threshold <= accept_threshold must hold")
        if self.ambiguity_margin < 0 or not 0 < self.name_similarity_min <= 1:
            raise ValueError("ambiguity_margin must be >= 0 and name_similarity_min in (0, 1]")
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple) and not (len(value) == 2 and all(0 < p <= 1 for p in value)):
                raise ValueError(f"{field.name}: expected (m, u) probabilities in (0, 1], got {value!r}")

    def weight(self, comparison: str, level: str) -> float:
        """Match weight in bits of one comparison level: log2(m / u)."""
        m, u = getattr(self, f"{comparison}_{level}")
        return log2(m / u)
