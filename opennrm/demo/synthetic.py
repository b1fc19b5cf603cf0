"""Synthetic referrals: invented people written the way real referrals write them.

Shared by `opennrm demo` and by the generator of import files (`opennrm import` tests and the
import benchmark). Nobody here is real: names are drawn from common-name lists, phone numbers are
from Ofcom's range reserved for drama (07700 900xxx), and Home Office references are marked DEMO
or SYN.

The mix follows the Home Office's published NRM statistics in broad terms: UK nationals the
largest group and mostly children, then Albanian, Vietnamese, Eritrean, Sudanese, Afghan, Iranian,
Romanian, Nigerian and Indian nationals; most children male and in criminal exploitation (county
lines); adults mostly in labour exploitation.
"""

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Name:
    latin: str  # as written on UK documents: no diacritics for Vietnamese, diacritics kept for European languages
    original: str | None = None  # in the person's own script or spelling, when it differs


@dataclass(frozen=True)
class NationalityProfile:
    code: str
    languages: tuple[str, ...]
    male: tuple[Name, ...]
    female: tuple[Name, ...]
    family: tuple[Name, ...]
    family_name_first: bool = False  # Vietnamese order: family name, middle name, given name
    middle_male: tuple[Name, ...] = ()
    middle_female: tuple[Name, ...] = ()
    child_scenarios: tuple[str, ...] = ()
    adult_scenarios: tuple[str, ...] = ()
    female_share_child: float = 0.2
    female_share_adult: float = 0.3
    has_home_office_record: float = 0.8  # share with a Home Office reference (asylum or visa)
    journey: tuple[str, ...] = ()  # countries crossed on the way to the UK


def _n(*pairs) -> tuple[Name, ...]:
    return tuple(Name(p) if isinstance(p, str) else Name(*p) for p in pairs)


NATIONALITIES: dict[str, NationalityProfile] = {
    "GBR": NationalityProfile(
        code="GBR",
        languages=("en",),
        male=_n(
            "Jayden",
            "Tyler",
            "Kai",
            "Mason",
            "Reece",
            "Callum",
            "Jordan",
            "Liam",
            "Connor",
            "Kyle",
            "Alfie",
            "Jamal",
            "Tyrese",
            "Marcus",
        ),
        female=_n("Leah", "Chloe", "Ellie", "Amelia", "Jade", "Kayla", "Shannon", "Mia", "Paige", "Courtney"),
        family=_n(
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Evans",
            "Thomas",
            "Walker",
            "Wright",
            "Robinson",
            "Hughes",
            "Clarke",
            "Green",
            "Campbell",
            "Mensah",
        ),
        child_scenarios=("county_lines", "county_lines", "county_lines", "child_sexual_exploitation", "shoplifting"),
        adult_scenarios=("cuckooing", "labour_uk", "sexual_uk"),
        female_share_child=0.25,
        female_share_adult=0.35,
        has_home_office_record=0.0,
    ),
    "ALB": NationalityProfile(
        code="ALB",
        languages=("sq",),
        male=_n(
            "Arbër",
            "Ardit",
            "Besnik",
            "Dritan",
            "Endrit",
            "Ermal",
            "Fatjon",
            "Gentian",
            "Klajdi",
            "Kristian",
            "Redon",
            "Xhuljo",
            "Erion",
        ),
        female=_n("Anjeza", "Besjana", "Elira", "Enkeleda", "Fjorela", "Klea", "Megi", "Rezarta", "Xhesika"),
        family=_n(
            "Hoxha",
            "Shehu",
            "Kola",
            "Krasniqi",
            "Leka",
            "Marku",
            "Gjoka",
            "Dervishi",
            "Çela",
            "Meta",
            "Basha",
            "Tafaj",
            "Zeneli",
            "Muça",
        ),
        child_scenarios=("cannabis_farm", "car_wash"),
        adult_scenarios=("cannabis_farm", "construction", "sexual_overseas"),
        female_share_child=0.08,
        female_share_adult=0.2,
        journey=("ALB", "ITA", "FRA"),
    ),
    "VNM": NationalityProfile(
        code="VNM",
        languages=("vi",),
        family_name_first=True,
        male=_n(
            ("Hung", "Hùng"),
            ("Tuan", "Tuấn"),
            ("Hai", "Hải"),
            ("Dung", "Dũng"),
            ("Quang", "Quang"),
            ("Long", "Long"),
            ("Nam", "Nam"),
            ("Duc", "Đức"),
            ("Khoa", "Khoa"),
        ),
        female=_n(
            ("Anh", "Ánh"),
            ("Linh", "Linh"),
            ("Lan", "Lan"),
            ("Mai", "Mai"),
            ("Thao", "Thảo"),
            ("Huong", "Hương"),
            ("Trang", "Trang"),
            ("Ngoc", "Ngọc"),
        ),
        family=_n(
            ("Nguyen", "Nguyễn"),
            ("Tran", "Trần"),
            ("Le", "Lê"),
            ("Pham", "Phạm"),
            ("Hoang", "Hoàng"),
            ("Vu", "Vũ"),
            ("Dang", "Đặng"),
            ("Bui", "Bùi"),
            ("Do", "Đỗ"),
            ("Ho", "Hồ"),
        ),
        middle_male=_n(("Van", "Văn"), ("Duc", "Đức"), ("Minh", "Minh"), ("Huu", "Hữu"), ("Quoc", "Quốc")),
        middle_female=_n(("Thi", "Thị"), ("Ngoc", "Ngọc"), ("Thu", "Thu"), ("Kim", "Kim")),
        child_scenarios=("cannabis_farm", "cannabis_farm", "nail_bar"),
        adult_scenarios=("cannabis_farm", "nail_bar", "sexual_overseas"),
        female_share_child=0.25,
        female_share_adult=0.45,
        journey=("VNM", "RUS", "POL", "DEU", "FRA"),
    ),
    "ERI": NationalityProfile(
        code="ERI",
        languages=("ti",),
        male=_n(
            ("Yonas", "ዮናስ"),
            ("Tesfay", "ተስፋይ"),
            ("Dawit", "ዳዊት"),
            ("Filmon", "ፊልሞን"),
            ("Merhawi", "መርሃዊ"),
            ("Biniam", "ቢንያም"),
            ("Samuel", "ሳሙኤል"),
            ("Robel", "ሮቤል"),
        ),
        female=_n(
            ("Senait", "ሰናይት"), ("Helen", "ሄለን"), ("Rahel", "ራሄል"), ("Saba", "ሳባ"), ("Lidya", "ሊድያ"), ("Selam", "ሰላም")
        ),
        family=_n(
            ("Tesfamariam", "ተስፋማርያም"),
            ("Gebremedhin", "ገብረመድህን"),
            ("Haile", "ሃይለ"),
            ("Kidane", "ኪዳነ"),
            ("Berhane", "ብርሃነ"),
            ("Habte", "ሃብተ"),
            ("Tekle", "ተኽለ"),
            ("Woldemichael", "ወልደሚካኤል"),
        ),
        child_scenarios=("libya_route", "libya_route", "car_wash"),
        adult_scenarios=("libya_route", "libya_route", "construction"),
        female_share_child=0.2,
        female_share_adult=0.35,
        journey=("ERI", "ETH", "SDN", "LBY", "ITA", "FRA"),
    ),
    "SDN": NationalityProfile(
        code="SDN",
        languages=("ar",),
        male=_n(
            ("Mohamed", "محمد"),
            ("Ahmed", "أحمد"),
            ("Osman", "عثمان"),
            ("Abdelrahman", "عبد الرحمن"),
            ("Mustafa", "مصطفى"),
            ("Ibrahim", "إبراهيم"),
            ("Hamza", "حمزة"),
            ("Yousif", "يوسف"),
            ("Adam", "آدم"),
        ),
        female=_n(("Fatima", "فاطمة"), ("Amna", "آمنة"), ("Hawa", "حواء"), ("Mariam", "مريم")),
        family=_n(
            ("Abdalla", "عبد الله"),
            ("Osman", "عثمان"),
            ("Elhassan", "الحسن"),
            ("Ibrahim", "إبراهيم"),
            ("Adam", "آدم"),
            ("Musa", "موسى"),
            ("Ali", "علي"),
            ("Yousif", "يوسف"),
        ),
        child_scenarios=("libya_route", "libya_route", "car_wash"),
        adult_scenarios=("libya_route", "construction"),
        female_share_child=0.05,
        female_share_adult=0.1,
        journey=("SDN", "TCD", "LBY", "ITA", "FRA"),
    ),
    "AFG": NationalityProfile(
        code="AFG",
        languages=("prs", "ps"),
        male=_n(
            ("Ahmad", "احمد"),
            ("Mohammad", "محمد"),
            ("Rahmatullah", "رحمت الله"),
            ("Samiullah", "سمیع الله"),
            ("Zabiullah", "ذبیح الله"),
            ("Habib", "حبیب"),
            ("Sultan", "سلطان"),
            ("Ali Reza", "علیرضا"),
        ),
        female=_n(("Mariam", "مریم"), ("Zahra", "زهرا"), ("Fereshta", "فرشته")),
        family=_n(
            ("Ahmadi", "احمدی"),
            ("Hussaini", "حسینی"),
            ("Rahimi", "رحیمی"),
            ("Sultani", "سلطانی"),
            ("Karimi", "کریمی"),
            ("Noori", "نوری"),
            ("Hakimi", "حکیمی"),
            ("Safi", "صافی"),
        ),
        child_scenarios=("iran_turkey_route", "iran_turkey_route", "car_wash"),
        adult_scenarios=("iran_turkey_route", "construction"),
        female_share_child=0.03,
        female_share_adult=0.1,
        journey=("AFG", "IRN", "TUR", "BGR", "SRB", "FRA"),
    ),
    "IRN": NationalityProfile(
        code="IRN",
        languages=("fa", "ckb"),
        male=_n(
            ("Amir", "امیر"),
            ("Reza", "رضا"),
            ("Mehdi", "مهدی"),
            ("Hossein", "حسین"),
            ("Arash", "آرش"),
            ("Kaveh", "کاوه"),
        ),
        female=_n(("Sara", "سارا"), ("Maryam", "مریم"), ("Shirin", "شیرین")),
        family=_n(
            ("Mohammadi", "محمدی"),
            ("Hosseini", "حسینی"),
            ("Rezaei", "رضایی"),
            ("Karimi", "کریمی"),
            ("Jafari", "جعفری"),
            ("Moradi", "مرادی"),
        ),
        child_scenarios=("iran_turkey_route", "car_wash"),
        adult_scenarios=("construction", "iran_turkey_route", "sexual_overseas"),
        female_share_child=0.1,
        female_share_adult=0.2,
        journey=("IRN", "TUR", "GRC", "ITA", "FRA"),
    ),
    "ROU": NationalityProfile(
        code="ROU",
        languages=("ro",),
        male=_n("Andrei", "Ionuț", "Florin", "Alexandru", "Mihai", "Ștefan", "Marius", "Gheorghe"),
        female=_n("Elena", "Ioana", "Maria", "Andreea", "Gabriela", "Florentina", "Mădălina"),
        family=_n(
            "Popescu", "Ionescu", "Stan", "Dumitru", "Constantin", "Marin", "Radu", "Stoica", "Lăzărescu", "Munteanu"
        ),
        child_scenarios=("forced_begging", "shoplifting"),
        adult_scenarios=("agriculture", "construction", "sexual_overseas", "forced_begging"),
        female_share_child=0.4,
        female_share_adult=0.4,
        has_home_office_record=0.6,
        journey=("ROU", "HUN", "AUT", "DEU", "FRA"),
    ),
    "NGA": NationalityProfile(
        code="NGA",
        languages=("en", "bin"),
        male=_n("Chinedu", "Emeka", "Osagie", "Osas", "Tunde", "Ikenna"),
        female=_n("Blessing", "Joy", "Precious", "Favour", "Esohe", "Osaretin", "Chioma"),
        family=_n("Okafor", "Eze", "Igbinedion", "Osagie", "Adeyemi", "Okonkwo", "Omoregie", "Edokpayi"),
        child_scenarios=("domestic_servitude", "child_sexual_exploitation"),
        adult_scenarios=("sexual_overseas", "domestic_servitude", "care_worker_visa"),
        female_share_child=0.6,
        female_share_adult=0.75,
        journey=("NGA", "NER", "LBY", "ITA"),
    ),
    "IND": NationalityProfile(
        code="IND",
        languages=("pa", "en"),
        male=_n(
            ("Gurpreet", "ਗੁਰਪ੍ਰੀਤ"),
            ("Harjit", "ਹਰਜੀਤ"),
            ("Manpreet", "ਮਨਪ੍ਰੀਤ"),
            ("Sandeep", "ਸੰਦੀਪ"),
            ("Jaswinder", "ਜਸਵਿੰਦਰ"),
        ),
        female=_n(("Harpreet", "ਹਰਪ੍ਰੀਤ"), ("Amandeep", "ਅਮਨਦੀਪ"), ("Simranjit", "ਸਿਮਰਨਜੀਤ")),
        family=_n(("Singh", "ਸਿੰਘ"), ("Kaur", "ਕੌਰ"), ("Sidhu", "ਸਿੱਧੂ"), ("Gill", "ਗਿੱਲ"), ("Sandhu", "ਸੰਧੂ")),
        child_scenarios=("domestic_servitude",),
        adult_scenarios=("care_worker_visa", "care_worker_visa", "construction", "domestic_servitude"),
        female_share_child=0.5,
        female_share_adult=0.45,
        has_home_office_record=1.0,
    ),
}

# Referral shares by nationality (NRM 2023-24: UK nationals most referred, 78% of them children).
CHILD_NATIONALITY_WEIGHTS = {
    "GBR": 46,
    "VNM": 8,
    "ERI": 9,
    "SDN": 9,
    "AFG": 10,
    "ALB": 7,
    "IRN": 4,
    "ROU": 3,
    "NGA": 2,
    "IND": 2,
}
ADULT_NATIONALITY_WEIGHTS = {
    "GBR": 10,
    "ALB": 18,
    "VNM": 7,
    "ERI": 9,
    "SDN": 9,
    "ROU": 10,
    "AFG": 5,
    "IRN": 7,
    "NGA": 10,
    "IND": 15,
}


@dataclass(frozen=True)
class Scenario:
    types: tuple[str, ...]
    location: str
    accounts: tuple[str, ...]
    indicators: tuple[str, ...]
    criminal_subtypes: tuple[str, ...] = ()
    uses_journey: bool = False
    overseas_only: bool = False
    female_only: bool = False
    months: tuple[int, int] = (2, 18)  # how long the exploitation went on


SCENARIOS: dict[str, Scenario] = {
    "county_lines": Scenario(
        types=("criminal",),
        criminal_subtypes=("county_lines",),
        location="uk",
        months=(2, 14),
        accounts=(
            "Groomed by older teenagers from the estate, who gave him clothes "
            "and cash and then said he owed them. Made to carry and sell drugs "
            "in {far_town}, staying for days in a flat used by adult dealers. "
            "Was 'robbed' of the drugs, which he believes was set up, and told "
            "the debt had doubled.",
            "Went missing several times over the past year. Found by police "
            "in {far_town} with a phone taking orders for crack cocaine and "
            "heroin. Says he was driven there by a man he knows only by a nickname, "
            "and was threatened with a knife when he tried to leave.",
        ),
        indicators=(
            "Found with two phones and cash he could not explain",
            "Repeatedly missing from home and school",
            "Injuries he would not explain",
            "Travelled far from home alone, with train tickets bought by others",
        ),
    ),
    "child_sexual_exploitation": Scenario(
        types=("sexual",),
        location="uk",
        months=(3, 20),
        female_only=True,
        accounts=(
            "Befriended online by a man in his twenties who bought her gifts "
            "and alcohol, then took her to parties at addresses in {far_town} "
            "where she was made to have sex with other men.",
            "Older 'boyfriend' controlled her phone and moved her between hotels; she believed she owed him for rent and clothes.",
        ),
        indicators=(
            "Older 'boyfriend' who controls her phone",
            "Found at a hotel with adult men",
            "Gifts and new phone with no explanation",
            "Missing overnight repeatedly",
        ),
    ),
    "shoplifting": Scenario(
        types=("criminal",),
        criminal_subtypes=("theft",),
        location="uk",
        months=(1, 8),
        accounts=(
            "Taken by adults to shopping centres in {near_town} and {far_town} "
            "and made to steal to order; handed the goods to a man waiting "
            "in a car and was given food but no money.",
        ),
        indicators=(
            "Arrested several times for theft in different towns",
            "Adult waiting outside shops in a car",
            "Does not know where the adults live",
        ),
    ),
    "cannabis_farm": Scenario(
        types=("criminal",),
        criminal_subtypes=("cannabis_cultivation",),
        location="uk_and_overseas",
        uses_journey=True,
        months=(2, 12),
        accounts=(
            "Found by police in a house converted to grow cannabis, windows "
            "blacked out and the door locked from the outside. Travelled to "
            "the UK in a lorry; says the journey was arranged by a man in his "
            "home country who said the debt for it had to be paid by work.",
            "Worked tending plants and sleeping on a mattress in the loft; "
            "food was brought twice a week. Told his family would be harmed "
            "if he left before the debt of several thousand pounds was paid.",
        ),
        indicators=(
            "Found locked inside a cannabis farm",
            "Debt for the journey to the UK",
            "Does not know the address where they were living",
            "Threats against family at home",
        ),
    ),
    "car_wash": Scenario(
        types=("labour",),
        location="uk_and_overseas",
        uses_journey=True,
        months=(1, 10),
        accounts=(
            "Worked twelve-hour days at a hand car wash in {near_town} for "
            "£20 a day, paid to the man who provided the room above the premises. "
            "Could not leave because the man kept his phone and said he owed "
            "rent.",
        ),
        indicators=(
            "Works long hours for little or no pay",
            "Lives at the workplace",
            "Employer holds their phone or documents",
        ),
    ),
    "construction": Scenario(
        types=("labour",),
        location="uk_and_overseas",
        uses_journey=True,
        months=(2, 20),
        accounts=(
            "Recruited for building work with promises of a good wage. Picked "
            "up each morning in a van and taken to sites around {near_town}; "
            "wages were paid into an account he had no access to, and he was "
            "told he owed for transport and accommodation.",
        ),
        indicators=(
            "Wages paid into an account controlled by someone else",
            "Overcrowded housing provided by the 'employer'",
            "Transport to and from work controlled by others",
        ),
    ),
    "agriculture": Scenario(
        types=("labour",),
        location="uk_and_overseas",
        uses_journey=True,
        months=(2, 10),
        accounts=(
            "Recruited in a village at home by an acquaintance for farm work "
            "in England. Picked vegetables on farms near {near_town}; deductions "
            "for housing and transport left almost nothing, and identity documents "
            "were kept 'for safety'.",
        ),
        indicators=(
            "Identity documents held by the recruiter",
            "Deductions from wages leave nothing",
            "Recruited through someone from home",
        ),
    ),
    "nail_bar": Scenario(
        types=("labour",),
        location="uk_and_overseas",
        uses_journey=True,
        months=(3, 18),
        accounts=(
            "Worked in a nail bar in {near_town} six or seven days a week without "
            "pay, sleeping in the flat of the owner's relative; told the money "
            "went towards the debt for the journey.",
        ),
        indicators=(
            "Works without pay to repay a debt",
            "Not allowed out alone",
            "Speaks little English and relies on the employer",
        ),
    ),
    "sexual_uk": Scenario(
        types=("sexual",),
        location="uk",
        months=(3, 24),
        female_only=True,
        accounts=(
            "Partner advertised her for sex online and moved her between flats "
            "in {near_town} and {far_town}; took all the money, citing her "
            "drug debt.",
        ),
        indicators=(
            "Advertised on adult services websites",
            "Partner controls money and phone",
            "Moved between short-let flats",
        ),
    ),
    "sexual_overseas": Scenario(
        types=("sexual",),
        location="uk_and_overseas",
        uses_journey=True,
        months=(2, 24),
        female_only=True,
        accounts=(
            "Offered work in a restaurant by a man she met online; on arrival "
            "her passport was taken and she was made to sell sex in flats in "
            "{near_town} and {far_town}, advertised online, to repay a debt "
            "she was told kept growing.",
        ),
        indicators=(
            "Passport held by others",
            "Advertised on adult services websites",
            "Debt bondage",
            "Moved between short-let flats",
        ),
    ),
    "libya_route": Scenario(
        types=("labour",),
        location="overseas",
        uses_journey=True,
        overseas_only=True,
        months=(4, 20),
        accounts=(
            "Held in a warehouse in Libya by smugglers and made to work on "
            "farms and building sites without pay until family paid a ransom; "
            "saw others beaten. Crossed the Mediterranean to Italy and travelled "
            "on to France.",
            "Sold between groups of smugglers on the way through Sudan and "
            "Libya; forced to work and beaten when too weak to work. Reached "
            "the UK by small boat.",
        ),
        indicators=(
            "Held captive and forced to work on the journey",
            "Ransom demanded from family",
            "Physical injuries from beatings",
        ),
    ),
    "iran_turkey_route": Scenario(
        types=("labour",),
        location="overseas",
        uses_journey=True,
        overseas_only=True,
        months=(3, 24),
        accounts=(
            "Worked unpaid in a garment workshop in Istanbul and earlier on "
            "building sites in Iran to pay the smugglers for each stage of "
            "the journey; locked in at night.",
        ),
        indicators=("Forced to work to pay smugglers", "Locked in at night", "Separated from family on the journey"),
    ),
    "domestic_servitude": Scenario(
        types=("domestic_servitude",),
        location="uk_and_overseas",
        uses_journey=False,
        months=(6, 36),
        accounts=(
            "Brought to the UK to look after a family's children in {near_town}; "
            "passport taken on arrival, not paid, not allowed out alone, sleeping "
            "on the kitchen floor.",
        ),
        indicators=("Passport held by the family", "Not allowed out alone", "Never paid", "Sleeps in the kitchen"),
    ),
    "care_worker_visa": Scenario(
        types=("labour",),
        location="uk_and_overseas",
        uses_journey=False,
        months=(3, 18),
        accounts=(
            "Paid a recruitment agent a large fee for a health and care worker "
            "visa. The sponsoring agency in {near_town} gave few paid hours, "
            "housed them with eight others, and threatened to withdraw sponsorship "
            "unless they repaid 'training costs'.",
        ),
        indicators=(
            "Recruitment fee and debt to the sponsor",
            "Threat to withdraw visa sponsorship",
            "Overcrowded housing provided by the employer",
        ),
    ),
    "forced_begging": Scenario(
        types=("criminal",),
        criminal_subtypes=("forced_begging",),
        location="uk_and_overseas",
        uses_journey=True,
        months=(1, 12),
        accounts=(
            "Brought to the UK by a relative and made to beg outside stations "
            "in {near_town} every day; the money was collected each evening.",
        ),
        indicators=(
            "Collected and dropped off each day",
            "Money taken each evening",
            "Does not know the address where they sleep",
        ),
    ),
    "cuckooing": Scenario(
        types=("criminal",),
        criminal_subtypes=("other",),
        location="uk",
        months=(1, 6),
        accounts=(
            "Home taken over by a drug-dealing group from {far_town} ('cuckooing'); "
            "he was made to hold drugs and money and could not refuse entry "
            "to his own flat.",
        ),
        indicators=(
            "Flat used by others to deal drugs",
            "Vulnerable adult with learning disability",
            "Visitors at all hours",
        ),
    ),
    "labour_uk": Scenario(
        types=("labour",),
        location="uk",
        months=(6, 36),
        accounts=(
            "Homeless when recruited at a soup kitchen for block-paving work; "
            "kept in a caravan on a site near {near_town}, paid in cigarettes "
            "and food, and beaten when he asked to leave.",
        ),
        indicators=(
            "Recruited while homeless",
            "Paid in food and cigarettes",
            "Lives on a caravan site controlled by the employer",
        ),
    ),
}


@dataclass(frozen=True)
class Area:
    local_authority: str  # GSS code
    town: str
    nation: str = "ENG"
    police_force: str = "Metropolitan Police Service"
    weight: int = 1


LONDON_AREAS = (
    Area("E09000008", "Croydon", weight=4),
    Area("E09000019", "Islington", weight=4),
    Area("E09000022", "Lambeth", weight=2),
    Area("E09000025", "Newham", weight=2),
    Area("E09000028", "Southwark", weight=2),
    Area("E09000014", "Haringey"),
    Area("E09000005", "Brent"),
    Area("E09000009", "Ealing"),
    Area("E09000018", "Hounslow"),
    Area("E09000033", "Westminster"),
    Area("E09000030", "Tower Hamlets"),
    Area("E09000007", "Camden"),
)
NATIONWIDE_AREAS = (
    Area("E08000003", "Manchester", police_force="Greater Manchester Police", weight=3),
    Area("E08000025", "Birmingham", police_force="West Midlands Police", weight=3),
    Area("E08000035", "Leeds", police_force="West Yorkshire Police", weight=2),
    Area("E08000012", "Liverpool", police_force="Merseyside Police", weight=2),
    Area("E06000023", "Bristol", police_force="Avon and Somerset Constabulary"),
    Area("E08000039", "Sheffield", police_force="South Yorkshire Police"),
    Area("E10000016", "Maidstone", police_force="Kent Police"),
    Area("E06000018", "Nottingham", police_force="Nottinghamshire Police"),
    Area("W06000015", "Cardiff", nation="WLS", police_force="South Wales Police", weight=2),
    Area("W06000022", "Newport", nation="WLS", police_force="Gwent Police"),
    Area("E09000008", "Croydon", weight=2),
)
# The journey on which people of these nationalities are most often exploited before reaching the UK.
JOURNEY_SCENARIO = {"ERI": "libya_route", "SDN": "libya_route", "AFG": "iran_turkey_route", "IRN": "iran_turkey_route"}
# Where county lines from each kind of place run to.
FAR_TOWNS = (
    "Brighton",
    "Crawley",
    "Southend-on-Sea",
    "Bournemouth",
    "Swindon",
    "Norwich",
    "Margate",
    "Aberystwyth",
    "Blackpool",
    "Hastings",
)


@dataclass(frozen=True)
class FirstResponderProfile:
    key: str
    reference_prefix: str
    child_share: float
    areas: tuple[Area, ...]
    refers_with_police: float  # share of referrals with a police crime reference


PROFILES = {
    "police": FirstResponderProfile("police", "MPS-MSHT", 0.7, LONDON_AREAS, 0.95),
    "local_authority": FirstResponderProfile("local_authority", "CRO-CS", 0.9, (Area("E09000008", "Croydon"),), 0.5),
    "ngo": FirstResponderProfile("ngo", "TSA-NRM", 0.35, NATIONWIDE_AREAS, 0.35),
}

LA_CONTACT_NAMES = (
    "Duty social worker",
    "MASH duty team",
    "Emergency duty team",
    "Children's services front door",
    "Unaccompanied asylum-seeking children team",
)
STREETS = ("Alder", "Birch", "Chestnut", "Larch", "Rowan", "Hawthorn", "Sycamore", "Willow", "Hazel", "Linden")


@dataclass
class SyntheticCase:
    """One invented referral: the contract-shaped body, and when it was received."""

    body: dict
    received_at: dt.datetime
    age_group: str
    nationality: str


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _area(rng: random.Random, areas: tuple[Area, ...]) -> Area:
    return rng.choices(areas, weights=[a.weight for a in areas])[0]


def _years_before(day: dt.date, years: int, extra_days: int) -> dt.date:
    try:
        anniversary = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        anniversary = day.replace(year=day.year - years, day=28)
    return anniversary - dt.timedelta(days=extra_days)


def _name(rng: random.Random, profile: NationalityProfile, sex: str) -> dict:
    female = sex == "female"
    given = rng.choice(profile.female if female else profile.male)
    family = rng.choice(profile.family)
    if profile.code == "IND" and family.latin in ("Singh", "Kaur"):
        family = Name("Kaur", "ਕੌਰ") if female else Name("Singh", "ਸਿੰਘ")
    out: dict = {}
    if profile.family_name_first:
        middle = rng.choice(profile.middle_female if female else profile.middle_male)
        out["given_names"] = f"{middle.latin} {given.latin}"
        out["family_name"] = family.latin
        out["names_in_original_script"] = f"{family.original} {middle.original} {given.original}"
        out["aliases"] = [given.latin, f"{given.latin} {family.latin}"]
        return out
    out["given_names"] = given.latin
    out["family_name"] = family.latin
    if given.original and family.original:
        out["names_in_original_script"] = f"{given.original} {family.original}"
    aliases = []
    if profile.code in ("SDN", "ERI", "AFG") and rng.random() < 0.5:
        # Transliterations vary between documents; referrals often carry the other spellings.
        variants = {
            "Mohamed": "Mohammed",
            "Yousif": "Yousef",
            "Abdalla": "Abdullah",
            "Tesfamariam": "Tesfamaryam",
            "Gebremedhin": "Gebremedihn",
            "Mohammad": "Muhammad",
            "Hussaini": "Husseini",
            "Habte": "Habtay",
        }
        alt_given = variants.get(given.latin, given.latin)
        alt_family = variants.get(family.latin, family.latin)
        if (alt_given, alt_family) != (given.latin, family.latin):
            aliases.append(f"{alt_given} {alt_family}")
    if profile.code == "GBR" and rng.random() < 0.4:
        aliases.append(rng.choice(["Little " + given.latin, given.latin[:3] + "z", "Smalls", "Youngs", "Shorty"]))
    if aliases:
        out["aliases"] = aliases
    return out


def _dob(rng: random.Random, *, received_on: dt.date, age_group: str, nationality: str) -> dict:
    """Date of birth, its precision and whether the age is disputed, for someone of this age group."""
    uk = nationality == "GBR"
    if age_group == "child":
        age = (
            rng.choice([12, 13, 14, 14, 15, 15, 16, 16, 16, 17, 17])
            if uk
            else rng.choice([14, 15, 15, 16, 16, 16, 17, 17, 17])
        )
        dob = _years_before(received_on, age, rng.randrange(1, 364))
        if uk or rng.random() < 0.45:
            return {"date_of_birth": dob.isoformat(), "date_of_birth_precision": "day", "age_disputed": False}
        precision = rng.choice(["year", "year", "month", "estimated"])
        dob = (
            dob.replace(month=1, day=1) if precision == "year" else dob.replace(day=1) if precision == "month" else dob
        )
        return {
            "date_of_birth": dob.isoformat(),
            "date_of_birth_precision": precision,
            "age_disputed": rng.random() < 0.3,
        }
    if age_group == "unknown":
        # Claims to be a child, looks older: treated as a child until the age is assessed (MSA s.51).
        dob = _years_before(received_on, rng.choice([16, 17, 17]), rng.randrange(1, 364))
        if rng.random() < 0.25:
            return {"age_disputed": True}
        return {
            "date_of_birth": dob.replace(month=1, day=1).isoformat(),
            "date_of_birth_precision": rng.choice(["year", "estimated"]),
            "age_disputed": True,
        }
    age = rng.choice([18, 19, 21, 23, 24, 26, 28, 30, 33, 35, 38, 41, 45, 52])
    dob = _years_before(received_on, age, rng.randrange(1, 364))
    if rng.random() < 0.75:
        return {"date_of_birth": dob.isoformat(), "date_of_birth_precision": "day", "age_disputed": False}
    return {
        "date_of_birth": dob.replace(month=1, day=1).isoformat(),
        "date_of_birth_precision": "year",
        "age_disputed": age < 21 and rng.random() < 0.5,
    }


def _exploitation(
    rng: random.Random, *, scenario_key: str, profile: NationalityProfile, area: Area, received_on: dt.date
) -> dict:
    scenario = SCENARIOS[scenario_key]
    months = rng.randint(*scenario.months)
    ended = received_on - dt.timedelta(days=rng.randrange(0, 45))
    started = (ended - dt.timedelta(days=30 * months)).replace(day=1)
    ongoing = not scenario.overseas_only and rng.random() < 0.25
    entry: dict = {"types": list(scenario.types), "location": scenario.location}
    if scenario.criminal_subtypes:
        entry["criminal_subtypes"] = list(scenario.criminal_subtypes)
    if not scenario.overseas_only:
        towns = [area.town]
        if "{far_town}" in " ".join(scenario.accounts) or rng.random() < 0.3:
            towns.append(rng.choice(FAR_TOWNS))
        entry["uk_towns"] = towns
    if scenario.location != "uk":
        journey = list(profile.journey or (profile.code,))
        entry["countries"] = journey if scenario.uses_journey else [profile.code]
    entry["started_on"] = started.isoformat()
    entry["ongoing"] = ongoing
    if not ongoing:
        entry["ended_on"] = ended.isoformat()
    towns = entry.get("uk_towns") or [area.town]
    far = towns[1] if len(towns) > 1 else rng.choice(FAR_TOWNS)
    entry["account"] = rng.choice(scenario.accounts).format(near_town=towns[0], far_town=far)
    return entry


def synthetic_case(
    rng: random.Random,
    *,
    profile: FirstResponderProfile,
    received_at: dt.datetime,
    age_group: str | None = None,
    area: Area | None = None,
    reference: str | None = None,
) -> SyntheticCase:
    """One invented referral from this kind of first responder, received at `received_at`."""
    received_on = received_at.astimezone(LONDON).date()
    if age_group is None:
        age_group = ("unknown" if rng.random() < 0.15 else "child") if rng.random() < profile.child_share else "adult"
    child = age_group != "adult"
    nationality = _weighted(rng, CHILD_NATIONALITY_WEIGHTS if child else ADULT_NATIONALITY_WEIGHTS)
    if age_group == "unknown" and nationality == "GBR":
        nationality = rng.choice(
            ["SDN", "ERI", "AFG", "VNM"]
        )  # age disputes are almost all about people without documents
    nat = NATIONALITIES[nationality]
    female_share = nat.female_share_child if child else nat.female_share_adult
    sex = "female" if rng.random() < female_share else "male"
    if nationality == "GBR" and rng.random() < 0.02:
        sex = "other"
    scenarios = [
        s
        for s in (nat.child_scenarios if child else nat.adult_scenarios)
        if sex == "female" or not SCENARIOS[s].female_only
    ]
    if sex == "female":
        # Women and girls are referred for sexual exploitation and domestic servitude far more often.
        scenarios += [s for s in scenarios if SCENARIOS[s].female_only]
    scenario_key = rng.choice(scenarios)
    area = area or _area(rng, profile.areas)

    pv: dict = _name(rng, nat, sex)
    pv.update(_dob(rng, received_on=received_on, age_group=age_group, nationality=nationality))
    pv.update(age_group=age_group, sex=sex, nationalities=[nationality])
    if nationality == "GBR" and rng.random() < 0.03:
        pv["nationalities"] = ["GBR", "JAM"]
    pv["languages"] = list(nat.languages[: 1 + (rng.random() < 0.3)])
    pv["interpreter_needed"] = nationality not in ("GBR", "NGA") and rng.random() < 0.9
    if child:
        placements = ["Foster placement", "Supported accommodation", "Children's home"] + (
            ["Family home", "Family home"] if nationality == "GBR" else []
        )
        placement = rng.choice(placements)
        pv["current_address"] = f"{placement}, {area.town} (full address held by children's services)"
    else:
        pv["current_address"] = (
            f"Flat {rng.randint(1, 40)}, {rng.randint(2, 180)} {rng.choice(STREETS)} Road, {area.town}"
        )
    if rng.random() < 0.7:
        pv["phone"] = f"07700 900{rng.randrange(1000):03d}"

    body: dict = {"nation": area.nation}
    if reference:
        body["first_responder_reference"] = reference
    body["potential_victim"] = pv
    if child:
        contacted = received_at - dt.timedelta(hours=rng.randint(1, 72), minutes=rng.randrange(60))
        body["local_authority_contact"] = {
            "local_authority": area.local_authority,
            "name": rng.choice(LA_CONTACT_NAMES),
            "contacted_at": contacted.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        }
        body["consent"] = None
    else:
        recorded = received_at - dt.timedelta(hours=rng.randint(1, 48), minutes=rng.randrange(60))
        body["local_authority_contact"] = None
        body["consent"] = {"given": True, "recorded_at": recorded.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")}
    exploitation = [_exploitation(rng, scenario_key=scenario_key, profile=nat, area=area, received_on=received_on)]
    # Many who crossed to the UK overland were exploited on the way as well as here: two situations.
    route = JOURNEY_SCENARIO.get(nationality)
    if route and rng.random() < 0.4:
        if SCENARIOS[scenario_key].overseas_only:
            exploitation.append(
                _exploitation(rng, scenario_key="car_wash", profile=nat, area=area, received_on=received_on)
            )
        else:
            exploitation.insert(
                0,
                _exploitation(
                    rng,
                    scenario_key=route,
                    profile=nat,
                    area=area,
                    received_on=received_on - dt.timedelta(days=rng.randint(120, 400)),
                ),
            )
        uk_entry = exploitation[-1]
        uk_entry["location"] = "uk"
        uk_entry.pop("countries", None)
    body["exploitation"] = exploitation
    pool = list(SCENARIOS[scenario_key].indicators)
    indicators = rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))
    if pv.get("age_disputed"):
        indicators.append("Claims to be under 18; appearance and documents disputed")
    body["indicators"] = indicators
    if rng.random() < profile.refers_with_police:
        yy = received_on.year % 100
        if area.police_force == "Metropolitan Police Service":
            crime_reference = f"{rng.randint(1000000, 9999999)}/{yy:02d}"
        else:
            crime_reference = f"{rng.randint(10, 99)}/{rng.randint(100000, 999999)}/{yy:02d}"
        body["police"] = {"force": area.police_force, "crime_reference": crime_reference}
    else:
        body["police"] = None
    return SyntheticCase(body=body, received_at=received_at, age_group=age_group, nationality=nationality)


def received_at_in_window(
    rng: random.Random, *, now: dt.datetime, min_days_ago: float, max_days_ago: float
) -> dt.datetime:
    """A time in office hours (London) between these many days ago and now, never in the future."""
    days = rng.uniform(min_days_ago, max_days_ago)
    day = (now - dt.timedelta(days=days)).astimezone(LONDON).date()
    local = dt.datetime.combine(day, dt.time(rng.randint(8, 18), rng.randrange(60)), tzinfo=LONDON)
    when = local.astimezone(dt.UTC)
    return min(when, now - dt.timedelta(minutes=5))


def import_lines(
    count: int, *, seed: int = 2026, now: dt.datetime | None = None, external_id_prefix: str = "SYN"
) -> Iterator[dict]:
    """`count` valid lines for `opennrm import`, received over the 18 months before `now`."""
    now = now or dt.datetime.now(dt.UTC)
    rng = random.Random(seed)
    profiles = list(PROFILES.values())
    for n in range(1, count + 1):
        profile = profiles[n % len(profiles)]
        received_at = received_at_in_window(rng, now=now, min_days_ago=1, max_days_ago=548)
        case = synthetic_case(
            rng, profile=profile, received_at=received_at, reference=f"{profile.reference_prefix}-SYN-{n:07d}"
        )
        if rng.random() < NATIONALITIES[case.nationality].has_home_office_record:
            case.body["potential_victim"]["home_office_reference"] = f"HO-SYN-{n:07d}"
        yield {
            **case.body,
            "received_at": received_at.isoformat().replace("+00:00", "Z"),
            "external_id": f"{external_id_prefix}-{n:07d}",
        }


def write_import_file(
    path, count: int, *, seed: int = 2026, now: dt.datetime | None = None, external_id_prefix: str = "SYN"
) -> int:
    """Write a JSON Lines import file; returns the number of lines written."""
    with open(path, "w", encoding="utf-8") as f:
        for line in import_lines(count, seed=seed, now=now, external_id_prefix=external_id_prefix):
            f.write(json.dumps(line, ensure_ascii=False))
            f.write("\n")
    return count
