import datetime as dt

import pytest

from opennrm.linkage.normalise import (
    BadDate,
    day_month_swapped,
    day_to_date,
    interval_gap,
    latin_form,
    name_keys,
    name_parts,
    parse_birth_date,
    skeleton,
)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Mohammed al-Hassan", "محمد الحسن"),  # Arabic script, the article
        ("Muhammad Alhassan", "Mohamed El Hassan"),  # spellings, glued and spaced particles
        ("Abd al-Rahman", "Abdulrahman"),  # the Abd compound
        ("عبد الرحمن", "Abdelrahman"),
        ("Abdullah", "عبد الله"),
        ("Tesfay Gebrehiwet", "ተስፋይ ገብረሂወት"),  # Ge'ez
        ("Tesfaye Ghebrehiwet", "Tesfai Gebre Hiwet"),  # Tigrinya spellings, the split compound
        ("Nguyen Thi Anh", "Nguyễn Thị Ánh"),  # Vietnamese diacritics
        ("Hussein Rezaei", "حسین رضایی"),  # Persian script
        ("Ahmed", "أحمد"),  # hamza-initial: the curated table
        ("Osman", "عثمان"),
        ("Najib Ullah", "نجیب الله"),  # the -ullah compound, written apart
        ("Nour el-Din", "نور الدين"),
        ("Haile Mikael", "Hailemikael"),  # a Ge'ez compound before a holy name
        ("Kristjan Berishaj", "Kristian Berisha"),  # Albanian j glide and the -aj family suffix
        ("Olawalle Ezeh", "Olawale Eze"),  # short keys: doubled letters, a silent final h
        ("Ja'fari", "Jafari"),  # an apostrophe for ʿayn is not a word break
        ("Rhys", "Reece"),  # the curated table: spellings that sound alike
    ],
)
def test_the_same_name_in_other_scripts_and_spellings_gets_the_same_keys(one, other):
    assert sorted(name_keys(one)) == sorted(name_keys(other))


@pytest.mark.parametrize(
    ("glued", "apart"),
    [("Alzaki", "al-Zaki"), ("Altaib", "Al Taib"), ("Elnouri", "el-Nouri"), ("Elobeidi", "al-Obeidi")],
)
def test_a_family_name_keeps_its_key_with_the_article_glued_on(glued, apart):
    # Six letters glued (Alzaki) as well as seven: every way the generator and caseworkers write the article.
    assert [key for key, _ in name_parts(glued, family=True)] == [key for key, _ in name_parts(apart, family=True)]


def test_a_given_name_that_begins_like_an_article_keeps_it():
    assert name_keys("Eltoni") != name_keys("Toni") and name_keys("Alisha") != name_keys("Isha")


def test_order_does_not_matter_and_particles_are_dropped():
    assert sorted(name_keys("Anh Nguyen")) == sorted(name_keys("Nguyen Anh"))
    assert name_keys("bin Saleh") == name_keys("Saleh")


def test_different_names_keep_different_keys():
    assert name_keys("Tesfay") != name_keys("Dawit")
    assert name_keys("Mohammed") != name_keys("Ahmed")
    assert name_keys("Anh") != name_keys("Linh")
    assert name_keys("Le") != name_keys("Ly") and name_keys("Vu") != name_keys("Vo")
    # An Arabic-script spelling in the curated table captures only itself: أحمد's consonants are Hamid's too.
    assert name_keys("حامد") == name_keys("Hamid") != name_keys("Ahmed")
    assert name_keys("Haile Berhane") == ["haile", "berhane"]


def test_skeleton_drops_vowels_and_folds_digraphs():
    assert skeleton("mohammed") == skeleton("muhammad") == "mhmd"
    assert skeleton("ghebre") == skeleton("gebre")
    assert latin_form("Lăcătuș Ștefan") == "lacatus stefan"


def test_birth_date_intervals_follow_the_precision():
    exact = parse_birth_date("2010-03-04", "exact")
    assert exact.lo == exact.hi == exact.point
    month = parse_birth_date("2010-03-01", "month")
    assert month.hi - month.lo == 30
    year = parse_birth_date("2010-05-05", "year")
    assert year.hi - year.lo == 364
    estimated = parse_birth_date("2010-01-01", "estimated")
    assert (day_to_date(estimated.lo), day_to_date(estimated.hi)) == (dt.date(2009, 1, 1), dt.date(2011, 12, 31))
    assert parse_birth_date("", "exact") is None


def test_the_usual_default_dates_count_as_year_only():
    assert parse_birth_date("2010-01-01", "exact").precision == "year"
    assert parse_birth_date("2010-07-01", "").precision == "year"
    assert parse_birth_date("2010", "").precision == "year"
    assert parse_birth_date("2010-04", "").precision == "month"


def test_interval_gap_and_day_month_swap():
    exact = parse_birth_date("2010-03-04", "exact")
    assert interval_gap(exact, parse_birth_date("2010-03-01", "month")) == 0
    assert interval_gap(exact, parse_birth_date("2010-03-14", "exact")) == 10
    # An estimate of 2006 reaches the end of 2007; from there to 4 March 2010:
    assert (
        interval_gap(parse_birth_date("2006-01-01", "estimated"), exact)
        == (dt.date(2010, 3, 4) - dt.date(2007, 12, 31)).days
    )
    assert day_month_swapped(exact, parse_birth_date("2010-04-03", "exact"))
    assert not day_month_swapped(exact, parse_birth_date("2010-04-03", "month"))


@pytest.mark.parametrize(
    ("value", "precision", "field"),
    [("2010-13-01", "exact", "date_of_birth"), ("2010-01-02", "roughly", "precision"), ("soon", "", "date_of_birth")],
)
def test_bad_dates_are_refused_naming_the_problem(value, precision, field):
    with pytest.raises(BadDate, match=field):
        parse_birth_date(value, precision)


def test_the_contracts_day_is_the_engines_exact_and_exact_is_still_read():
    contract = parse_birth_date("2010-03-04", "day")
    assert (
        contract
        == parse_birth_date("2010-03-04", "exact")
        == parse_birth_date("2010-03-04", " Day ")
        == parse_birth_date("2010-03-04", "")
    )
    assert contract.precision == "exact" and contract.lo == contract.hi
    with pytest.raises(BadDate, match="must be one of day, month, year, estimated, not 'roughly'"):
        parse_birth_date("2010-03-04", "roughly")
