"""Names and dates of birth made comparable across scripts, spellings and precisions.

Names: NFKC, Arabic-script rules (the article, `Abd`/`Abu` compounds) applied before transliteration,
transliteration to ASCII with anyascii (ISC licence; ICU would need libicu here), Latin particle rules
(al-/el-/bin/ibn, Abdul+X), a curated table of variants for common names, then a *key* per token: the
curated canonical form, or else a consonant skeleton (vowels and w/y dropped, digraphs folded, doubled
letters collapsed) which makes Mohammed, Muhammad and محمد agree. Tokens are order-free: Vietnamese
family-name-first order and Eritrean given + father's + grandfather's names need no special casing.

Dates of birth: an interval [lo, hi] in days, wide enough for the stated precision (a month, a year,
± a year for an estimate); 1 January and 1 July are treated as year-only defaults.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

# Curated variant groups: every spelling in a group gets the group's first entry as its key. Original-script
# spellings are listed where anyascii's consonant skeleton is not enough (short names, ʿayn/hamza-initial).
VARIANT_GROUPS: list[tuple[str, ...]] = [
    (
        "mohammed",
        "muhammad",
        "mohamed",
        "mohamad",
        "muhammed",
        "mohammad",
        "mohamud",
        "mahamat",
        "mehmet",
        "mhmd",
        "محمد",
    ),
    ("ahmed", "ahmad", "ahmet", "أحمد", "احمد"),
    ("ali", "aly", "alee", "علي", "علی"),
    ("omar", "umar", "omer", "عمر"),
    ("yusuf", "youssef", "yousif", "yousef", "yusef", "joseph", "يوسف", "یوسف"),
    ("osman", "othman", "uthman", "usman", "عثمان"),
    ("adam", "adem", "آدم", "ادم"),
    ("musa", "moussa", "mousa", "moses", "موسى", "موسی"),
    ("isa", "issa", "eisa", "عيسى"),
    ("ismail", "ismael", "esmail", "إسماعيل", "اسماعیل"),
    ("ibrahim", "ebrahim", "ibraheem", "ebrahem", "إبراهيم", "ابراهیم"),
    ("jamal", "gamal", "jamaal", "جمال"),
    ("javad", "jawad", "جواد"),
    ("mahdi", "mehdi", "مهدی", "مهدي"),
    ("hussein", "hussain", "hossein", "husain", "husein", "حسين", "حسین"),
    ("hassan", "hasan", "حسن"),
    ("hosseini", "husseini", "hussaini", "حسینی"),
    ("jafari", "jaafari", "جعفری"),
    ("noor", "nour", "nur", "نور"),
    ("layla", "leila", "laila", "leyla", "ليلى"),
    ("huda", "hoda", "هدى"),
    ("hawa", "hawwa", "حواء"),
    ("aisha", "aysha", "aicha", "ayesha", "عائشة"),
    ("reza", "rezza", "رضا"),
    ("rezaei", "rezaee", "rezai", "رضایی"),
    ("zahra", "zahrah", "زهرا"),
    ("tekle", "tecle", "teklay", "ተኽለ"),
    ("yonas", "yohannes", "yonnas", "ዮናስ"),
    ("amanuel", "emanuel", "emmanuel", "amaniel", "ኣማኑኤል"),
    ("abraham", "abrham", "abreham", "ኣብርሃም"),
    ("haile", "hayle", "hailu", "ሃይለ"),
    ("berhane", "berhe", "birhane", "ብርሃነ"),
    ("mebrahtu", "mebrahtom", "mibrahtu", "መብራህቱ"),
    ("kidane", "kidan", "kiddane", "ኪዳነ"),
    ("hiwet", "hiwot", "hewet", "ሂወት"),
    ("helen", "hellen", "helena", "ሄለን"),
    ("feven", "ፌቨን"),
    ("xhuljano", "julian", "xhulian"),
    ("xhesika", "jessica", "jess"),
    ("gheorghe", "georghe", "george"),
    ("nguyen", "nguyễn"),
    ("thomas", "tom", "tommy"),
    ("daniel", "danny", "ዳንኤል"),
    ("joshua", "josh"),
    # Short forms and spellings that sound alike, met in British, Nigerian, Albanian, Romanian and Eritrean
    # records (a short form often stands for the full name on a second referral).
    ("rhys", "reece", "reese"),
    ("kai", "kye"),
    ("james", "jamie"),
    ("charles", "charlie"),
    ("harrison", "harry"),
    ("oliver", "olly", "ollie"),
    ("ellie", "elly"),
    ("leah", "lea"),
    ("johnson", "jonson"),
    ("thompson", "thomson"),
    ("joy", "joi"),
    ("oluwaseun", "seun", "oluwasehun"),
    ("chukwuemeka", "emeka"),
    ("babatunde", "tunde"),
    ("ifeanyichukwu", "ifeanyi"),
    ("funmilayo", "funmi"),
    ("chinedu", "chinedum"),
    ("adebayo", "adebayor"),
    ("okafor", "okafo"),
    ("uche", "uchey"),
    ("precious", "presious"),
    ("hoxha", "hoxhaj", "hodza", "hoxa"),
    ("shehu", "sheu"),
    ("klevis", "klevi"),
    ("ervis", "erviz"),
    ("fjorela", "fiorela"),
    ("mihai", "mihail"),
    ("costel", "costica"),
    ("salah", "salaheddin", "salahuddin", "salahdin", "salaheldin", "صلاح", "صلاحدين"),
    ("rahmat", "rahmatullah", "رحمت", "رحمتله"),
    ("zabihullah", "zabiullah", "zabihollah", "ذبیحله"),
    ("azizi", "azeezi", "عزیزی"),
    ("soraya", "suraya", "ثریا"),
    ("sohrab", "sohraab", "سهراب"),
    ("winta", "wintana", "ዊንታ"),
    ("selamawit", "selam", "salam", "ሰላም"),
    ("tewelde", "tewolde", "teweldebrhan", "ተወልደ"),
    ("eyob", "iyob", "job", "እዮብ"),
    ("isaias", "isayas", "ኢሳይያስ"),
    ("tekeste", "tekleste", "ተኸስተ"),
    ("klea", "kleja"),
    ("mema", "memaj"),
    ("blessing", "blessin"),
    ("yahya", "yehia", "yahia", "يحيى"),
    ("dawood", "dawud", "daud", "dawoud", "داود"),
    ("moaz", "muadh", "moath", "معاذ"),
    ("afaf", "عفاف"),
    ("yama", "یما"),
    ("roya", "rooya", "رویا"),
    ("marzia", "marzieh", "marziyeh", "مرضیه"),
]

# Particles that carry no identity: the article, "son/daughter of".
PARTICLES = {"al", "el", "ul", "bin", "ibn", "bint", "ben", "wad", "walad", "wd"}
# Compounds that are one name written as two: Abd al-Rahman, Abu Bakr, Tesfa Mariam (the first word glues on
# the next), Nour el-Din and Najib Ullah (the last word glues on the one before).
JOIN_WITH_NEXT = {
    "abd",
    "abdul",
    "abdel",
    "abdal",
    "abdol",
    "abu",
    "abou",
    "gebre",
    "ghebre",
    "tesfa",
    "wolde",
    "welde",
    "habte",
}
JOIN_WITH_PREVIOUS = {"ullah", "ulla", "allah", "ollah", "din", "deen", "eddin", "uddin"}
# Haile and Kidane are names alone, and the first half of a compound before a holy name (Haile Selassie,
# Kidane Mariam are Hailemikael and Kidanemariam written apart).
JOIN_BEFORE_HOLY_NAME = {"haile", "hayle", "kidane", "kidan"}
HOLY_NAMES = {
    "mariam",
    "maryam",
    "mikael",
    "michael",
    "selassie",
    "giorgis",
    "yesus",
    "kristos",
    "tsion",
    "gabriel",
    "egziabher",
    "tensae",
}
_ARABIC_JOIN_WITH_PREVIOUS = {"له", "دين", "دین"}  # الله and الدين once the article is dropped
_ABD_PREFIX = re.compile(r"^abd(?:ul|el|al|ol|ur|ar)?(?=[a-z]{3,})")
_NON_LETTER = re.compile(r"[^a-z]+")
_ARABIC_LETTERS = re.compile(r"[\u0600-\u06FF]")
_DIGRAPHS = [
    ("ph", "f"),
    ("gh", "g"),
    ("kh", "k"),
    ("th", "t"),
    ("dh", "d"),
    ("sh", "s"),
    ("ck", "k"),
    ("ch", "k"),
    ("xh", "j"),
    ("c", "k"),
    ("q", "k"),
]
_VOWELISH = re.compile(r"[aeiouwy]")
# A j that only glides into a vowel after a consonant (Kristjan/Kristian, Erjon/Erion) or ends a word after a
# (the Albanian family suffix: Gashaj/Gashi, Berishaj/Berisha) is a vowel sound, dropped with the vowels.
_J_GLIDE = re.compile(r"(?<=[b-df-hk-np-tv-z])j(?=[aeiou])|(?<=.a)j$")
_DOUBLED = re.compile(r"(.)\1+")


def _variant_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for group in VARIANT_GROUPS:
        for spelling in group:
            index[unicodedata.normalize("NFKC", spelling).lower()] = group[0]
            # Only a Latin spelling's ASCII form: another script's is consonants alone (أحمد is "hmd"), and would
            # capture every name with those consonants (حامد Hamid, عمار Ammar, احسان Ehsan).
            if is_latin(spelling):
                index.setdefault(_ascii(spelling), group[0])
    return index


def _ascii(text: str) -> str:
    return _NON_LETTER.sub("", anyascii(unicodedata.normalize("NFKC", text)).lower())


def skeleton(ascii_word: str) -> str:
    """Consonant skeleton: digraphs folded, vowels (and w, y) dropped, doubled letters collapsed."""
    word = _J_GLIDE.sub("", ascii_word)
    for digraph, replacement in _DIGRAPHS:
        word = word.replace(digraph, replacement)
    key = _DOUBLED.sub(r"\1", _VOWELISH.sub("", word))
    # Fatimah, Zahrah, Abdullah: a final h is as often left out (Fatima, Abdulla, عبدالله → bdallh keeps it).
    return key[:-1] if len(key) >= 3 and key.endswith("h") else key


def _arabic_script_words(text: str) -> list[str]:
    """Arabic-script words with the article dropped and Abd/Abu compounds glued, before transliteration."""
    words = text.split()
    out: list[str] = []
    glue = False
    for word in words:
        if word in ("بن", "ابن", "بنت"):
            continue
        if len(word) > 3 and word.startswith("ال"):
            word = word[2:]
        if (glue or word in _ARABIC_JOIN_WITH_PREVIOUS) and out:
            out[-1] = out[-1] + word
            glue = False
            continue
        out.append(word)
        glue = word in ("عبد", "ابو", "أبو")
    return out


@lru_cache(maxsize=200_000)
def token_key(word: str) -> str:
    """The comparison key of one name word (any script)."""
    folded = unicodedata.normalize("NFKC", word).lower()
    variants = VARIANTS
    if folded in variants:
        return variants[folded]
    ascii_word = _ascii(word)
    if not ascii_word:
        return ""
    if ascii_word in variants:
        return variants[ascii_word]
    # A silent final h after a vowel (Fatimah, Ezeh, Obih) is as often left out.
    ascii_word = re.sub(r"(?<=..[aeiou])h$", "", ascii_word)
    stripped = _ABD_PREFIX.sub("abd", ascii_word)
    if stripped != ascii_word:
        rest = stripped[3:]
        rest = re.sub(r"^(al|el|ul)(?=[a-z]{3,})", "", rest)
        return skeleton("abd" + rest)
    key = skeleton(ascii_word)
    if len(key) >= 2:
        return key
    # Very short skeletons (Le, Anh, Ly) would collide with everything: keep the spelling instead, with doubled
    # letters dropped (Olawale/Olawalle), and a silent final h (Noh/No; longer words lost it above), which never
    # tell two names apart.
    spelling = _DOUBLED.sub(r"\1", ascii_word)
    return spelling[:-1] if len(spelling) >= 3 and spelling.endswith("h") and spelling[-2] in "aeiou" else spelling


def name_words(text: str, family: bool = False) -> list[str]:
    """The words of a name field, particles removed and compounds joined, in their original script.

    `family`: the field is a family name, where a glued article is stripped from shorter words and before a vowel
    too (Alzaki, Elnour, Alamin, Alanwar); in given names that would break Alexandra, Alisha and Eltoni."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text)
    if _ARABIC_LETTERS.search(text):
        return _arabic_script_words(text)
    # An apostrophe inside a word is an ʿayn or a hamza (Ja'fari), not a break between words.
    raw = [w for w in re.split(r"[\s\-‐.,/]+", text) if w]
    out: list[str] = []
    glue = False
    for word in raw:
        ascii_word = _ascii(word)
        if ascii_word in PARTICLES and len(raw) > 1:
            continue
        joins_previous = ascii_word in JOIN_WITH_PREVIOUS or (
            ascii_word in HOLY_NAMES and bool(out) and _ascii(out[-1]) in JOIN_BEFORE_HOLY_NAME
        )
        if (glue or joins_previous) and out:
            out[-1] = out[-1] + word
            glue = False
            continue
        # "Alhassan" and "Elobeidi": the article glued on; drop it when a long word remains.
        if (
            ascii_word[:2] in ("al", "el")
            and ascii_word[2:3] not in ("x", "l")
            and ((len(ascii_word) >= 7 and ascii_word[2] not in "aeiou") or (family and len(ascii_word) >= 6))
        ):
            word = word[2:]
        out.append(word)
        glue = ascii_word in JOIN_WITH_NEXT
    return out


def name_keys(text: str) -> list[str]:
    """Keys of every word of a name field (see `token_key`), in order, without empties."""
    return [key for key in (token_key(word) for word in name_words(text)) if key]


@lru_cache(maxsize=100_000)
def is_latin(text: str) -> bool:
    """Whether every letter of `text` is a Latin letter (Vietnamese, Albanian) rather than Arabic, Ge'ez…"""
    return all(unicodedata.name(c, "").startswith("LATIN") for c in text if c.isalpha())


@lru_cache(maxsize=1_000_000)
def name_parts(text: str, family: bool = False) -> list[tuple[str, str]]:
    """(key, first two ASCII letters) of every word of a name field, in order, without empty keys."""
    return [
        (key, _ascii(word)[:2]) for key, word in ((token_key(word), word) for word in name_words(text, family)) if key
    ]


@lru_cache(maxsize=1_000_000)
def latin_form(text: str, family: bool = False) -> str:
    """The name in plain lower-case ASCII words, for string similarity."""
    return " ".join(w for w in (_ascii(word) for word in name_words(text, family)) if w)


VARIANTS = _variant_index()
CURATED_KEYS = frozenset(VARIANTS.values())
# Letters a name's spellings swap at its start (Courtney/Kourtney, Filmon/Philmon, Jessica/Xhesika, Gamal/Jamal).
_INITIAL_CLASSES = {
    **dict.fromkeys("aeiouy", 1),
    **dict.fromkeys("ckq", 2),
    **dict.fromkeys("fpv", 3),
    **dict.fromkeys("gjx", 4),
}


def initial_class(key: str, prefix: str) -> int:
    """How a name word starts, to tell apart two names that share a consonant skeleton but not a first sound
    (Molly and Emily are both `ml`): a small number per first letter, vowels alike; 0 (agrees with any) for
    a curated variant, whose spellings are known to be one name, or a word without Latin letters."""
    if key in CURATED_KEYS or not prefix:
        return 0
    return _INITIAL_CLASSES.get(prefix[0], ord(prefix[0]))


# ---------------------------------------------------------------- dates of birth

# How precise a date of birth is, in the contract's words (section 2), each with the engine's: the engine calls a date
# known to the day "exact" (its features and model are named so). "exact" is still read, for files written before the
# contract's word was used. This is the one place the words are translated.
CONTRACT_PRECISIONS = ("day", "month", "year", "estimated")
ENGINE_PRECISION = {"day": "exact", "month": "month", "year": "year", "estimated": "estimated", "exact": "exact"}
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class BirthDate:
    """A date of birth as an interval of days since 1970, with the stated date and precision."""

    point: int  # the date written down (days since 1970)
    lo: int
    hi: int
    precision: str

    @property
    def date(self) -> dt.date:
        return day_to_date(self.point)


def day_to_date(days: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=days)


@lru_cache(maxsize=10_000)
def parse_day(value: str) -> int | None:
    """A YYYY-MM-DD date (a referral's) as days since 1970; None when empty."""
    value = (value or "").strip()[:10]
    if not value:
        return None
    try:
        return (dt.date.fromisoformat(value) - _EPOCH).days
    except ValueError:
        raise BadDate(f"{value!r} is not a date (YYYY-MM-DD)") from None


class BadDate(ValueError):
    pass


def engine_precision(word: str) -> str:
    """The engine's precision for a precision word of the contract (or the older `exact`); empty reads as `day`."""
    key = (word or "").strip().lower() or "day"
    if key not in ENGINE_PRECISION:
        raise BadDate(f"date_of_birth_precision must be one of {', '.join(CONTRACT_PRECISIONS)}, not {word.strip()!r}")
    return ENGINE_PRECISION[key]


@lru_cache(maxsize=200_000)
def parse_birth_date(value: str, precision: str) -> BirthDate | None:
    """`value` YYYY-MM-DD (or YYYY-MM, YYYY); `precision` a word of CONTRACT_PRECISIONS, `exact`, or empty (= day).

    The BirthDate's precision is the engine's word (ENGINE_PRECISION)."""
    value = value.strip()
    if not value:
        return None
    precision = engine_precision(precision)
    parts = value.split("-")
    try:
        if len(parts) == 1:
            day, precision = dt.date(int(parts[0]), 1, 1), ("year" if precision == "exact" else precision)
        elif len(parts) == 2:
            day, precision = dt.date(int(parts[0]), int(parts[1]), 1), ("month" if precision == "exact" else precision)
        else:
            day = dt.date.fromisoformat(value)
    except ValueError as error:
        raise BadDate(f"date_of_birth {value!r} is not a date (YYYY-MM-DD): {error}") from None
    if precision == "exact" and (day.month, day.day) in ((1, 1), (7, 1)):
        precision = "year"  # 1 January and 1 July are the usual defaults for an unknown date
    point = (day - _EPOCH).days
    if precision == "exact":
        lo, hi = point, point
    elif precision == "month":
        next_month = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        lo, hi = point, (next_month - _EPOCH).days - 1
    elif precision == "year":
        lo, hi = (dt.date(day.year, 1, 1) - _EPOCH).days, (dt.date(day.year, 12, 31) - _EPOCH).days
    else:  # estimated: the year, give or take one
        lo, hi = (dt.date(day.year - 1, 1, 1) - _EPOCH).days, (dt.date(day.year + 1, 12, 31) - _EPOCH).days
    return BirthDate(point, lo, hi, precision)


def interval_gap(a: BirthDate, b: BirthDate) -> int:
    """Days between two intervals (0 when they overlap)."""
    return max(0, max(a.lo, b.lo) - min(a.hi, b.hi))


def day_month_swapped(a: BirthDate, b: BirthDate) -> bool:
    if a.precision != "exact" or b.precision != "exact":
        return False
    x, y = a.date, b.date
    return x != y and x.year == y.year and x.month == y.day and x.day == y.month
