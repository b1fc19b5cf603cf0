"""A seeded generator of synthetic referral identities with ground truth, for measuring linkage.

Each *person* (a child) is referred one or more times; every referral is written as one row in the
contract's input format (contract section 6) and its truth (person, family, and the kind of noise it
carries) as one row of a separate truth file. Noise follows what happens in practice: transliteration
variants, Vietnamese family-name-first order, Eritrean given + father's + grandfather's names with some
dropped, Arabic particles, names recorded only in the original script, typos, aliases, imprecise and
assessed dates of birth, day/month swaps, confused nationalities (ERI/ETH, SDN/SSD). Each child is
looked after by one local authority, which makes most of its referrals; some referrals re-refer the same
episode within days. Hard negatives are generated on purpose: siblings (same family name and father's name,
close dates of birth), twins (same date of birth), half of them referred together (same day, same
authority), and many distinct children sharing very common names.

No real person's data: names come from the curated tables below, weighted by their documented
frequencies, with synthetic long tails (see "name frequencies" below). Generation streams: a million
records need memory for one family at a time.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

INPUT_COLUMNS = [
    "record_id",
    "given_names",
    "family_name",
    "aliases",
    "names_in_original_script",
    "date_of_birth",
    "date_of_birth_precision",
    "sex",
    "nationalities",
    "local_authority",
    "referral_date",
]
TRUTH_COLUMNS = ["record_id", "person_id", "family_id", "relation", "script_only", "dob_kind", "name_order"]

# A name: (spellings in Latin script, most usual first; the original-script form or "").
# Spelling variants are the ones caseworkers meet; the first is the one a person "owns".
Name = tuple[tuple[str, ...], str]

ARABIC_MALE: list[Name] = [
    (("Mohammed", "Muhammad", "Mohamed", "Mohamad", "Muhammed", "Mohammad"), "محمد"),
    (("Ahmed", "Ahmad", "Ahmet"), "أحمد"),
    (("Ali",), "علي"),
    (("Omar", "Umar", "Omer"), "عمر"),
    (("Yusuf", "Youssef", "Yousif", "Yousef"), "يوسف"),
    (("Ibrahim", "Ebrahim", "Ibraheem"), "إبراهيم"),
    (("Abdullah", "Abdallah", "Abd Allah", "Abdulla"), "عبد الله"),
    (("Abdulrahman", "Abdelrahman", "Abd al-Rahman", "Abdul Rahman"), "عبد الرحمن"),
    (("Hassan", "Hasan"), "حسن"),
    (("Hussein", "Hussain", "Hossein", "Husain"), "حسين"),
    (("Khalid", "Khaled"), "خالد"),
    (("Mustafa", "Mostafa", "Moustafa"), "مصطفى"),
    (("Osman", "Othman", "Uthman"), "عثمان"),
    (("Adam", "Adem"), "آدم"),
    (("Ismail", "Ismael", "Esmail"), "إسماعيل"),
    (("Tariq", "Tarek", "Tareq"), "طارق"),
    (("Jamal", "Gamal"), "جمال"),
    (("Salah", "Salaheddin"), "صلاح"),
    (("Bilal",), "بلال"),
    (("Hamza", "Hamzah"), "حمزة"),
    (("Karim", "Kareem"), "كريم"),
    (("Nasser", "Nasir", "Naser"), "ناصر"),
    (("Idris", "Idriss", "Edris"), "إدريس"),
    (("Musa", "Moussa", "Mousa"), "موسى"),
]
ARABIC_FEMALE: list[Name] = [
    (("Fatima", "Fatma", "Fatimah"), "فاطمة"),
    (("Aisha", "Aysha", "Aicha"), "عائشة"),
    (("Maryam", "Mariam", "Meryem"), "مريم"),
    (("Amina", "Aminah", "Ameena"), "أمينة"),
    (("Zainab", "Zaynab", "Zeinab"), "زينب"),
    (("Huda", "Hoda"), "هدى"),
    (("Noor", "Nour", "Nur"), "نور"),
    (("Samira", "Sameera"), "سميرة"),
    (("Layla", "Leila", "Laila"), "ليلى"),
    (("Hawa", "Hawwa"), "حواء"),
]
ARABIC_FAMILY: list[Name] = [
    (("al-Hassan", "el-Hassan", "Alhassan", "Hassan"), "الحسن"),
    (("Abdelrahim", "Abdul Rahim", "Abd al-Rahim"), "عبد الرحيم"),
    (("al-Amin", "El Amin", "Alamin"), "الأمين"),
    (("Osman", "Othman"), "عثمان"),
    (("Ibrahim", "Ebrahim"), "إبراهيم"),
    (("al-Tayeb", "Eltayeb", "Al Taib"), "الطيب"),
    (("Adam", "Adem"), "آدم"),
    (("bin Saleh", "Bin Salih", "Saleh"), "بن صالح"),
    (("Abu Bakr", "Abubakar", "Abubaker"), "أبو بكر"),
    (("al-Jabouri", "Al Jubouri", "Aljubouri"), "الجبوري"),
    (("Hamid", "Hamed"), "حامد"),
    (("Mahmoud", "Mahmud", "Mahmood"), "محمود"),
    (("Suleiman", "Sulaiman", "Soliman"), "سليمان"),
    (("Khalil", "Khaleel"), "خليل"),
    (("al-Obeidi", "Al Ubaidi", "Elobeidi"), "العبيدي"),
    (("Nour el-Din", "Nureddin", "Noureddine"), "نور الدين"),
]
PERSIAN_MALE: list[Name] = [
    (("Mohammad", "Mohammed", "Muhammad"), "محمد"),
    (("Ali",), "علی"),
    (("Hossein", "Hussain", "Hussein"), "حسین"),
    (("Reza", "Rezza"), "رضا"),
    (("Ahmad", "Ahmed"), "احمد"),
    (("Mahdi", "Mehdi"), "مهدی"),
    (("Javad", "Jawad"), "جواد"),
    (("Mustafa", "Mostafa"), "مصطفی"),
    (("Abdul", "Abdol"), "عبدل"),
    (("Farid", "Fareed"), "فرید"),
    (("Sohrab", "Sohraab"), "سهراب"),
    (("Najibullah", "Najib Ullah", "Najibollah"), "نجیب الله"),
    (("Zabihullah", "Zabiullah", "Zabihollah"), "ذبیح الله"),
    (("Rahmat", "Rahmatullah"), "رحمت"),
]
PERSIAN_FEMALE: list[Name] = [
    (("Fatemeh", "Fatima", "Fatemah"), "فاطمه"),
    (("Zahra", "Zahrah"), "زهرا"),
    (("Maryam", "Mariam"), "مریم"),
    (("Soraya", "Suraya"), "ثریا"),
    (("Parisa", "Pareesa"), "پریسا"),
    (("Shabnam", "Shabnum"), "شبنم"),
]
PERSIAN_FAMILY: list[Name] = [
    (("Ahmadi", "Ahmadie"), "احمدی"),
    (("Mohammadi", "Muhammadi"), "محمدی"),
    (("Rezaei", "Rezaee", "Rezai"), "رضایی"),
    (("Hosseini", "Husseini", "Hussaini"), "حسینی"),
    (("Karimi", "Kareemi"), "کریمی"),
    (("Rahimi", "Raheemi"), "رحیمی"),
    (("Azizi", "Azeezi"), "عزیزی"),
    (("Jafari", "Jaafari", "Ja'fari"), "جعفری"),
    (("Noori", "Nouri", "Nuri"), "نوری"),
    (("Safi", "Saafi"), "صافی"),
    (("Stanikzai", "Stanekzai"), "ستانکزی"),
    (("Popal", "Popul"), "پوپل"),
]
# Eritrean/Ethiopian names: given + father's + grandfather's, no family name. Ge'ez originals.
GEEZ_MALE: list[Name] = [
    (("Tesfay", "Tesfaye", "Tesfai"), "ተስፋይ"),
    (("Yonas", "Yohannes", "Yonnas"), "ዮናስ"),
    (("Dawit", "Dawitt", "Daweet"), "ዳዊት"),
    (("Filmon", "Philmon", "Filimon"), "ፊልሞን"),
    (("Semere", "Semre", "Simere"), "ሰመረ"),
    (("Merhawi", "Mirhawi"), "መርሃዊ"),
    (("Robel", "Robiel"), "ሮቤል"),
    (("Habtom", "Habtem"), "ሃብቶም"),
    (("Kibrom", "Kebrom"), "ክብሮም"),
    (("Abraham", "Abrham", "Abreham"), "ኣብርሃም"),
    (("Samuel", "Samiel"), "ሳሙኤል"),
    (("Amanuel", "Emanuel", "Amaniel"), "ኣማኑኤል"),
    (("Gebrehiwet", "Ghebrehiwet", "Gebre Hiwet", "Gebrehiwot"), "ገብረሂወት"),
    (("Tekle", "Tecle", "Teklay"), "ተኽለ"),
    (("Berhane", "Berhe", "Birhane"), "ብርሃነ"),
    (("Tesfamariam", "Tesfa Mariam", "Tesfamaryam"), "ተስፋማርያም"),
    (("Haile", "Hayle", "Hailu"), "ሃይለ"),
    (("Woldu", "Weldu", "Woldeh"), "ወልዱ"),
    (("Kidane", "Kidan", "Kiddane"), "ኪዳነ"),
    (("Mebrahtu", "Mebrahtom", "Mibrahtu"), "መብራህቱ"),
    (("Gebremedhin", "Ghebremedhin", "Gebre Medhin"), "ገብረመድህን"),
    (("Tewelde", "Tewolde", "Teweldebrhan"), "ተወልደ"),
]
GEEZ_FEMALE: list[Name] = [
    (("Selam", "Salam", "Selamawit"), "ሰላም"),
    (("Helen", "Hellen", "Helena"), "ሄለን"),
    (("Senait", "Senayt", "Sennait"), "ሰናይት"),
    (("Winta", "Wintana"), "ዊንታ"),
    (("Saba", "Sabah"), "ሳባ"),
    (("Feven", "Fiyori"), "ፌቨን"),
    (("Mekdes", "Mekdas"), "መቅደስ"),
    (("Hiwet", "Hiwot", "Hewet"), "ሂወት"),
]
VIET_GIVEN_MALE: list[tuple[Name, float]] = [
    ((("Anh",), "Anh"), 12),
    ((("Hung",), "Hùng"), 8),
    ((("Minh",), "Minh"), 8),
    ((("Nam",), "Nam"), 7),
    ((("Tuan",), "Tuấn"), 7),
    ((("Long",), "Long"), 6),
    ((("Duc",), "Đức"), 5),
    ((("Huy",), "Huy"), 5),
    ((("Khanh",), "Khánh"), 4),
    ((("Phuc",), "Phúc"), 4),
    ((("Quang",), "Quang"), 4),
    ((("Thanh",), "Thanh"), 4),
    ((("Dung", "Dzung"), "Dũng"), 3),
    ((("Tien",), "Tiến"), 3),
    ((("Hieu",), "Hiếu"), 3),
    ((("Cuong",), "Cường"), 3),
]
VIET_GIVEN_FEMALE: list[tuple[Name, float]] = [
    ((("Anh",), "Anh"), 10),
    ((("Linh",), "Linh"), 9),
    ((("Huong",), "Hương"), 7),
    ((("Lan",), "Lan"), 6),
    ((("Mai",), "Mai"), 6),
    ((("Trang",), "Trang"), 6),
    ((("Thao",), "Thảo"), 5),
    ((("Hoa",), "Hoa"), 5),
    ((("Ngoc",), "Ngọc"), 4),
    ((("Nhung",), "Nhung"), 4),
    ((("Phuong",), "Phương"), 4),
    ((("Yen",), "Yến"), 3),
]
ALBANIAN_MALE: list[Name] = [
    (("Endrit", "Ëndrit", "Endrith"), ""),
    (("Arben", "Arbeni"), ""),
    (("Klevis", "Klevi"), ""),
    (("Erion", "Erjon"), ""),
    (("Ardit", "Arditi"), ""),
    (("Besnik", "Besniku"), ""),
    (("Dritan", "Dritani"), ""),
    (("Elton", "Eltoni"), ""),
    (("Florian", "Florjan"), ""),
    (("Gentian", "Gentjan"), ""),
    (("Ilir", "Iliri"), ""),
    (("Kristian", "Kristjan"), ""),
    (("Luan", "Luani"), ""),
    (("Marsel", "Marseli"), ""),
    (("Redon", "Redoni"), ""),
    (("Xhuljano", "Julian", "Xhulian"), ""),
    (("Sokol", "Sokoli"), ""),
    (("Ervis", "Erviz"), ""),
]
ALBANIAN_FEMALE: list[Name] = [
    (("Elona", "Elonë"), ""),
    (("Ermira", "Ermirë"), ""),
    (("Klea", "Kleja"), ""),
    (("Jonida", "Jonidë"), ""),
    (("Anisa", "Anisë"), ""),
    (("Fjorela", "Fiorela"), ""),
    (("Xhesika", "Jessica"), ""),
]
ALBANIAN_FAMILY: list[Name] = [
    (("Hoxha", "Hoxhaj", "Hodza"), ""),
    (("Çollaku", "Collaku", "Cholaku"), ""),
    (("Shehu", "Sheu"), ""),
    (("Gashi", "Gashaj"), ""),
    (("Krasniqi", "Krasniki"), ""),
    (("Berisha", "Berishaj"), ""),
    (("Leka", "Lekaj"), ""),
    (("Dervishi", "Dervishaj"), ""),
    (("Kola", "Kolaj"), ""),
    (("Marku", "Markaj"), ""),
    (("Prifti", "Priftaj"), ""),
    (("Bajrami", "Bajramaj"), ""),
    (("Tafa", "Tafaj"), ""),
    (("Duka", "Dukaj"), ""),
    (("Mema", "Memaj"), ""),
]
ROMANIAN_MALE: list[Name] = [
    (("Ștefan", "Stefan"), ""),
    (("Andrei", "Andrey"), ""),
    (("Alexandru", "Alexandro"), ""),
    (("Ionuț", "Ionut"), ""),
    (("Mihai", "Mihail"), ""),
    (("Florin", "Floryn"), ""),
    (("Gheorghe", "Georghe", "George"), ""),
    (("Costel", "Costica"), ""),
    (("Marian", "Marin"), ""),
    (("Nicolae", "Nicolai"), ""),
]
ROMANIAN_FEMALE: list[Name] = [
    (("Ioana", "Ioanna"), ""),
    (("Maria", "Mariya"), ""),
    (("Elena", "Elenа"), ""),
    (("Andreea", "Andrea"), ""),
    (("Alexandra", "Alexandrа"), ""),
    (("Florentina", "Florentyna"), ""),
    (("Denisa", "Denissa"), ""),
]
ROMANIAN_FAMILY: list[Name] = [
    (("Popescu", "Popesku"), ""),
    (("Ionescu", "Ionesku"), ""),
    (("Țurcanu", "Turcanu"), ""),
    (("Stoica", "Stoika"), ""),
    (("Dumitru", "Dumitriu"), ""),
    (("Rădulescu", "Radulescu"), ""),
    (("Lăcătuș", "Lacatus"), ""),
    (("Constantin", "Konstantin"), ""),
    (("Mihăilă", "Mihaila"), ""),
    (("Stan", "Stann"), ""),
    (("Rusu", "Russu"), ""),
    (("Munteanu", "Muntean"), ""),
]
NIGERIAN_MALE: list[Name] = [
    (("Chinedu", "Chinedum"), ""),
    (("Oluwaseun", "Seun", "Oluwasehun"), ""),
    (("Emeka", "Chukwuemeka"), ""),
    (("Ibrahim", "Ibraheem"), ""),
    (("Tunde", "Babatunde"), ""),
    (("Obinna", "Obina"), ""),
    (("Ifeanyi", "Ifeanyichukwu"), ""),
    (("Samuel", "Samwel"), ""),
    (("David", "Daveed"), ""),
    (("Kelechi", "Kelechukwu"), ""),
]
NIGERIAN_FEMALE: list[Name] = [
    (("Blessing", "Blessin"), ""),
    (("Chioma", "Chiamaka"), ""),
    (("Ngozi", "Ngozy"), ""),
    (("Favour", "Favor"), ""),
    (("Adaeze", "Adaze"), ""),
    (("Funmilayo", "Funmi"), ""),
    (("Precious", "Presious"), ""),
    (("Joy", "Joi"), ""),
]
NIGERIAN_FAMILY: list[Name] = [
    (("Okafor", "Okafo"), ""),
    (("Adeyemi", "Adeyemy"), ""),
    (("Okonkwo", "Okonkow"), ""),
    (("Eze", "Ezeh"), ""),
    (("Ogunleye", "Ogunleyi"), ""),
    (("Nwosu", "Nwosuh"), ""),
    (("Bello", "Belo"), ""),
    (("Abubakar", "Abubakr"), ""),
    (("Olawale", "Olawalle"), ""),
    (("Obi", "Obih"), ""),
    (("Adebayo", "Adebayor"), ""),
    (("Uche", "Uchey"), ""),
]
UK_MALE: list[Name] = [
    (("Jack",), ""),
    (("Oliver", "Olly"), ""),
    (("Harry", "Harrison"), ""),
    (("Charlie", "Charles"), ""),
    (("Thomas", "Tom", "Tommy"), ""),
    (("James", "Jamie"), ""),
    (("Kyle",), ""),
    (("Liam",), ""),
    (("Connor", "Conor"), ""),
    (("Tyler",), ""),
    (("Daniel", "Danny"), ""),
    (("Jayden", "Jaiden"), ""),
    (("Callum", "Calum"), ""),
    (("Reece", "Rhys"), ""),
    (("Mason",), ""),
    (("Lewis", "Louis"), ""),
    (("Kai", "Kye"), ""),
    (("Leon",), ""),
    (("Joshua", "Josh"), ""),
    (("Ryan",), ""),
]
UK_FEMALE: list[Name] = [
    (("Chloe", "Chloë"), ""),
    (("Emily", "Emilie"), ""),
    (("Jessica", "Jess"), ""),
    (("Olivia", "Liv"), ""),
    (("Amelia", "Millie"), ""),
    (("Sophie", "Sophia"), ""),
    (("Ellie", "Elly"), ""),
    (("Megan", "Meghan"), ""),
    (("Lauren",), ""),
    (("Courtney", "Kourtney"), ""),
    (("Leah", "Lea"), ""),
    (("Caitlin", "Katelyn"), ""),
    (("Demi",), ""),
    (("Shannon",), ""),
    (("Kayla", "Kaylah"), ""),
]
UK_FAMILY: list[Name] = [
    (("Smith", "Smyth"), ""),
    (("Jones",), ""),
    (("Williams",), ""),
    (("Taylor", "Tayler"), ""),
    (("Brown", "Browne"), ""),
    (("Davies", "Davis"), ""),
    (("Evans",), ""),
    (("Wilson",), ""),
    (("Thomas",), ""),
    (("Johnson", "Jonson"), ""),
    (("Roberts",), ""),
    (("Robinson",), ""),
    (("Wright",), ""),
    (("Thompson", "Thomson"), ""),
    (("Walker",), ""),
    (("White", "Whyte"), ""),
    (("Edwards",), ""),
    (("Hughes",), ""),
    (("Green", "Greene"), ""),
    (("Hall",), ""),
    (("Lewis",), ""),
    (("Harris",), ""),
    (("Clarke", "Clark"), ""),
    (("Patel",), ""),
    (("Jackson",), ""),
    (("Wood",), ""),
    (("Turner",), ""),
    (("Martin",), ""),
    (("Cooper",), ""),
    (("Hill",), ""),
    (("Ward",), ""),
    (("Morris",), ""),
    (("Moore",), ""),
    (("Clayton",), ""),
    (("Lee",), ""),
    (("King",), ""),
    (("Baker",), ""),
    (("Harrison",), ""),
    (("Morgan",), ""),
    (("Allen", "Allan"), ""),
    (("Mitchell",), ""),
    (("Kelly", "Kelley"), ""),
]


# Long tails of family names built from syllables: real populations have thousands of surnames, and the
# few dozen curated ones above alone would make every second child a namesake. The curated heads keep the
# very common names (Nguyen, Mohammed, Smith) common.
def _syllable_names(prefixes: str, suffixes: str) -> list[Name]:
    return [((p + s,), "") for p in prefixes.split() for s in suffixes.split()]


FAMILY_TAILS: dict[str, list[Name]] = {
    "arabic": [
        ((f"al-{root}", f"El {root}", root), "")
        for root in [
            "Rashid",
            "Zubair",
            "Faris",
            "Qasim",
            "Mansour",
            "Sharif",
            "Hakim",
            "Salim",
            "Bashir",
            "Tahir",
            "Anwar",
            "Fadl",
            "Hilal",
            "Jaber",
            "Kamal",
            "Latif",
            "Majid",
            "Nabil",
            "Rafiq",
            "Sami",
            "Walid",
            "Yasin",
            "Zaki",
            "Badr",
            "Daud",
            "Fuad",
            "Ghazi",
            "Habib",
            "Imad",
            "Marzouq",
        ]
    ],
    "persian": [
        ((root,), "")
        for root in [
            "Sultani",
            "Nazari",
            "Amiri",
            "Habibi",
            "Sharifi",
            "Rasuli",
            "Samadi",
            "Wardak",
            "Zadran",
            "Mangal",
            "Hotak",
            "Barakzai",
            "Durrani",
            "Sadat",
            "Haidari",
            "Qaderi",
            "Yousufzai",
            "Akbari",
            "Tajik",
            "Hamidi",
            "Safari",
            "Naseri",
            "Ghafoori",
            "Mirzai",
        ]
    ],
    "romanian": _syllable_names(
        "Pop Ion Rad Stan Mih Dum Constan Gheorg Vas Nic Marin Tud Crist Lung Bal", "escu eanu ache oiu aru ica"
    ),
    "nigerian": _syllable_names(
        "Ade Olu Oke Chi Nwa Obi Ola Ige Aji Ezi", "wale kunle bayo nna eze ke fora sanya dipe mola"
    ),
}
UK_MALE += [
    ((name,), "")
    for name in [
        "Alfie",
        "Archie",
        "Ben",
        "Bradley",
        "Cameron",
        "Dylan",
        "Ethan",
        "Finley",
        "George",
        "Henry",
        "Isaac",
        "Jake",
        "Jordan",
        "Kieran",
        "Luke",
        "Max",
        "Nathan",
        "Owen",
        "Riley",
        "Sam",
        "Toby",
        "Zach",
        "Aaron",
        "Ashton",
        "Brandon",
        "Corey",
        "Declan",
        "Ewan",
        "Frankie",
        "Logan",
    ]
]
UK_FEMALE += [
    ((name,), "")
    for name in [
        "Abbie",
        "Alisha",
        "Bethany",
        "Chelsea",
        "Danielle",
        "Eden",
        "Faith",
        "Georgia",
        "Grace",
        "Hannah",
        "Holly",
        "Imogen",
        "Jade",
        "Keira",
        "Lacey",
        "Lily",
        "Maisie",
        "Molly",
        "Niamh",
        "Paige",
        "Poppy",
        "Rebecca",
        "Ruby",
        "Skye",
        "Tia",
        "Zoe",
        "Amber",
        "Brooke",
        "Casey",
        "Freya",
    ]
]

# ---------------------------------------------------------------- name frequencies (round 2)
#
# Why: the first generator drew every name from a few dozen curated entries, so at 1M records about 110
# girls per birth year were all "Nguyen Thi Anh": a population no real referral stream has. Real name
# distributions are long-tailed: a few very common names and very many rare ones. Only the POOL SIZES and
# their weights changed here; every noise rate below (spellings, typos, dropped names, swaps, script-only,
# dates, nationalities, aliases, age disputes) is untouched.
#
# Sources and what is an estimate:
# - Vietnamese family names: Lê Trung Hoa, "Họ và tên người Việt Nam" (2005), as tabulated in Wikipedia's
#   "Vietnamese name": Nguyễn 38.4 %, Trần 12.1, Lê 9.5, Phạm 7.0, Hoàng/Huỳnh 5.1, Phan 4.5, Vũ/Võ 3.9,
#   Đặng 2.1, Bùi 2.0, Đỗ 1.4, Hồ 1.3, Ngô 1.3, Dương 1.0, Lý 0.5; the remaining ~10 % spread (Zipf) over
#   50 further real family names. Middle and given names: no published frequency table exists; they are
#   real Vietnamese name syllables, ranked and Zipf-weighted, with Văn/Thị at about 31/37 % (an estimate: both
#   have declined for children born after 2000, as the same article notes).
# - Eritrean/Ethiopian: given name + father's given name + grandfather's given name (no family name), so
#   the father's and grandfather's names are drawn from the male given-name distribution itself. No
#   published frequency list: the curated head (Tesfay, Yonas, Dawit…) keeps half the weight, the tail is
#   the language's own compounds (Gebre-/Tesfa-/Habte-/Wolde-/Haile-/Kidane- + Mariam, Mikael, Selassie…,
#   each with its Ge'ez form) and further real names.
# - Arabic (Sudan, Iraq, Syria, Egypt) and Persian/Dari (Afghanistan, Iran): Muhammad and its variants at
#   about 10 % of boys (a commonly quoted estimate for Arab countries, not a census figure), further names
#   Zipf-weighted; family names keep their particles (al-/el-, Abd/Abu compounds) and a long tail.
# - British: ONS "Baby names in England and Wales" (2007–2017 releases): the most common name is given to
#   about 2 % of a year's boys or girls and the top 100 cover about half; surnames: Smith about 1.3 % of
#   people in Britain (ONS/Guppy surname counts), then a Zipf head and a long tail. As generated: the top
#   given name 1.9-2.0 %, the 50 curated names 1.0-2.0 % each; Smith 1.8 % (a little above the 1.3 %: the
#   curated head holds 11 % of people, which the Zipf shape gives Smith more of than the real list does).
# - Albanian, Romanian, Nigerian: curated heads, no frequency source found; Zipf-weighted with a tail.
# Tails built from a language's syllables are synthetic (they name no real person) and are marked so in
# the code (`_composed`). Very common names stay common (Nguyen 38 %, Muhammad ~10 %, Tesfay the most
# common Ge'ez name): the engine's term-frequency weighting must still face them.


@dataclass(frozen=True)
class Pool:
    names: tuple[Name, ...]
    cumulative: tuple[float, ...]


def _pool(
    head: list[Name] | list[tuple[Name, float]],
    tail: list[Name] = (),
    head_share: float = 1.0,
    skew: float = 1.0,
    tail_skew: float = 0.6,
) -> Pool:
    """Head names (explicit weights in %, or Zipf by rank with `skew`) taking `head_share` of the mass;
    the tail (Zipf with `tail_skew`) the rest."""
    if head and isinstance(head[0][1], (int, float)):
        names = [name for name, _ in head]
        weights = [float(w) for _, w in head]
    else:
        names = list(head)
        weights = [1 / (rank + 1) ** skew for rank in range(len(head))]
    total = sum(weights)
    weights = [w * head_share / total for w in weights]
    tail = [name for name in tail if name[0][0] not in {n[0][0] for n in names}]
    if tail:
        tail_weights = [1 / (rank + 1) ** tail_skew for rank in range(len(tail))]
        tail_total = sum(tail_weights)
        names += tail
        weights += [w * (1 - head_share) / tail_total for w in tail_weights]
    cumulative, running = [], 0.0
    for w in weights:
        running += w
        cumulative.append(running)
    return Pool(tuple(names), tuple(cumulative))


def _pick(rng: random.Random, pool: Pool) -> Name:
    return pool.names[bisect.bisect_left(pool.cumulative, rng.random() * pool.cumulative[-1])]


def _composed(prefixes: str, suffixes: str, seed: int) -> list[Name]:
    """Synthetic tail names from a language's syllables, in a fixed shuffled order (so the Zipf rank does
    not follow the alphabet)."""
    names = [((p + s,), "") for p in prefixes.split() for s in suffixes.split()]
    random.Random(seed).shuffle(names)
    return names


def _viet(words: str) -> list[Name]:
    """Vietnamese words with diacritics; the Latin spelling a caseworker types is without them."""
    out = []
    for word in words.split():
        plain = unicodedata.normalize("NFD", word.replace("Đ", "D").replace("đ", "d"))
        plain = "".join(c for c in plain if not unicodedata.combining(c))
        out.append(((plain,), word))
    return out


VIET_FAMILY_POOL = _pool(
    [
        ((("Nguyen",), "Nguyễn"), 38.4),
        ((("Tran", "Trann"), "Trần"), 12.1),
        ((("Le", "Lee"), "Lê"), 9.5),
        ((("Pham", "Phan"), "Phạm"), 7.0),
        ((("Hoang", "Huynh"), "Hoàng"), 5.1),
        ((("Phan",), "Phan"), 4.5),
        ((("Vu", "Vo"), "Vũ"), 3.9),
        ((("Dang",), "Đặng"), 2.1),
        ((("Bui",), "Bùi"), 2.0),
        ((("Do",), "Đỗ"), 1.4),
        ((("Ho",), "Hồ"), 1.3),
        ((("Ngo",), "Ngô"), 1.3),
        ((("Duong",), "Dương"), 1.0),
        ((("Ly",), "Lý"), 0.5),
    ],
    _viet(
        "Đinh Trịnh Lâm Mai Trương Đoàn Cao Lưu Tô Hà Quách Tạ Thái Kiều La Chu Châu Lương Tăng Triệu Từ Vương "
        "Kim Khúc Lại Mạc Nghiêm Phùng Quan Tôn Thân Âu Đàm Giang Hàn Hứa Lạc Lục Mạch Ninh Tiêu Thạch Văn "
        "Đào Lò Nông Hầu Diệp Viên"
    ),
    head_share=0.897,
)
VIET_MIDDLE_POOLS = {
    "M": _pool(
        [(_viet("Văn")[0], 35)]
        + [
            (n, w)
            for n, w in zip(
                _viet(
                    "Đức Minh Quốc Hữu Công Thanh Gia Hoàng Ngọc Tuấn Bảo Xuân Đình Trọng Anh Quang Mạnh Thế Hải Tiến Duy Khánh Đăng Nhật"
                ),
                [8, 8, 6, 5, 5, 5, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1],
            )
        ]
    ),
    "F": _pool(
        [(_viet("Thị")[0], 40)]
        + [
            (n, w)
            for n, w in zip(
                _viet(
                    "Ngọc Thu Thanh Minh Phương Thùy Hoài Kim Bảo Khánh Mai Hồng Quỳnh Diễm Hải Thảo Bích Cẩm Lan Hà Mỹ Tú Yến Như"
                ),
                [8, 6, 5, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1],
            )
        ]
    ),
}
VIET_GIVEN_POOLS = {
    "M": _pool(
        VIET_GIVEN_MALE,
        _viet(
            "Bảo Bình Chiến Công Cường Đạt Đông Dương Giang Hải Hậu Hiển Hòa Hoàng Hợp Hưng Khải Khang Khoa Kiên Lâm Lộc "
            "Lợi Luân Lực Mạnh Nghĩa Ngọc Nguyên Nhân Nhật Phát Phong Phú Quân Quý Sơn Tài Tâm Tân Thắng Thành Thiện "
            "Thịnh Thọ Thuận Tín Toàn Trí Trung Trường Tú Tùng Việt Vinh Vũ Xuân Kiệt Đăng Hào Lượng Sang Tấn Hiệp Khôi "
            "Nhân Triều Vĩnh Đại Hoài Thông Linh Kha Khang"
        ),
        head_share=0.5,
    ),
    "F": _pool(
        VIET_GIVEN_FEMALE,
        _viet(
            "Bích Châu Chi Diệp Dung Duyên Giang Hà Hạnh Hằng Hiền Hoài Hồng Huệ Huyền Khánh Kiều Lam Liên Loan Ly "
            "Mỹ Nga Ngân Nhi Nhàn Oanh Quỳnh Sương Tâm Thắm Thanh Thơ Thủy Thúy Tiên Trâm Trinh Tuyết Uyên Vân Vy "
            "Xuân Hạ Đào Diễm Hậu Hiếu Lệ Mơ Nương Phượng Quyên Thùy Tươi Vi Yên Ánh Cúc Điệp Hân Khuê Lụa Mai"
        ),
        head_share=0.5,
    ),
}

_GEEZ_PARTS = [
    ("Gebre", "Ghebre", "ገብረ"),
    ("Tesfa", "Tesfa", "ተስፋ"),
    ("Habte", "Habtê", "ሃብተ"),
    ("Wolde", "Welde", "ወልደ"),
    ("Haile", "Hayle", "ሃይለ"),
    ("Kidane", "Kidan", "ኪዳነ"),
]
_GEEZ_ENDS = [
    ("mariam", "ማርያም"),
    ("mikael", "ሚካኤል"),
    ("selassie", "ስላሴ"),
    ("giorgis", "ጊዮርጊስ"),
    ("yesus", "የሱስ"),
    ("kristos", "ክርስቶስ"),
    ("tsion", "ጽዮን"),
    ("gabriel", "ገብርኤል"),
    ("egziabher", "እግዚኣብሄር"),
    ("michael", "ሚካኤል"),
    ("tensae", "ትንሳኤ"),
]
GEEZ_MALE_TAIL: list[Name] = [
    ((start + end, f"{start} {end.capitalize()}", alt + end), s + e)
    for start, alt, s in _GEEZ_PARTS
    for end, e in _GEEZ_ENDS
] + [
    ((latin,), geez)
    for latin, geez in [
        ("Mehari", "መሓሪ"),
        ("Yemane", "የማነ"),
        ("Tsegay", "ጸጋይ"),
        ("Kahsay", "ካሕሳይ"),
        ("Goitom", "ጎይቶም"),
        ("Teame", "ተዓመ"),
        ("Ghirmay", "ግርማይ"),
        ("Zerai", "ዘርኣይ"),
        ("Asmerom", "ኣስመሮም"),
        ("Tedros", "ቴድሮስ"),
        ("Efrem", "ኤፍሬም"),
        ("Natnael", "ናትናኤል"),
        ("Biniam", "ቢንያም"),
        ("Henok", "ሄኖክ"),
        ("Yosief", "ዮሴፍ"),
        ("Daniel", "ዳንኤል"),
        ("Aron", "ኣሮን"),
        ("Mussie", "ሙሴ"),
        ("Senay", "ሰናይ"),
        ("Awet", "ኣወት"),
        ("Eyob", "እዮብ"),
        ("Nahom", "ናሆም"),
        ("Yafet", "ያፌት"),
        ("Ermias", "ኤርምያስ"),
        ("Solomon", "ሰሎሞን"),
        ("Meles", "መለስ"),
        ("Isaias", "ኢሳይያስ"),
        ("Zekarias", "ዘካርያስ"),
        ("Fitsum", "ፍጹም"),
        ("Medhanie", "መድሃኔ"),
        ("Okbay", "ዑቕባይ"),
        ("Hagos", "ሓጎስ"),
        ("Negash", "ነጋሽ"),
        ("Araya", "ኣርኣያ"),
        ("Gebru", "ገብሩ"),
        ("Alem", "ኣለም"),
        ("Hadgu", "ሓድጉ"),
        ("Weldemichael", "ወልደሚካኤል"),
        ("Tekeste", "ተኸስተ"),
        ("Andom", "ኣንዶም"),
        ("Estifanos", "እስጢፋኖስ"),
        ("Petros", "ጴጥሮስ"),
        ("Yared", "ያሬድ"),
        ("Ghebreab", "ገብረኣብ"),
    ]
]
GEEZ_FEMALE_TAIL: list[Name] = [
    ((latin,), geez)
    for latin, geez in [
        ("Lidia", "ሊድያ"),
        ("Ruth", "ሩት"),
        ("Bethlehem", "ቤተልሔም"),
        ("Yordanos", "ዮርዳኖስ"),
        ("Eden", "ኤደን"),
        ("Rahel", "ራሄል"),
        ("Meron", "ሜሮን"),
        ("Sara", "ሳራ"),
        ("Tsega", "ጸጋ"),
        ("Almaz", "ኣልማዝ"),
        ("Mebrat", "መብራት"),
        ("Aster", "ኣስቴር"),
        ("Luwam", "ሉዋም"),
        ("Danait", "ዳናይት"),
        ("Nardos", "ናርዶስ"),
        ("Elsa", "ኤልሳ"),
        ("Freweyni", "ፍረወይኒ"),
        ("Semhar", "ሰምሃር"),
        ("Rigat", "ርግኣት"),
        ("Yohana", "ዮሃና"),
        ("Wegahta", "ወጋሕታ"),
        ("Mahlet", "ማህሌት"),
        ("Ariam", "ኣርያም"),
        ("Mihret", "ምሕረት"),
        ("Kidist", "ቅድስት"),
        ("Hanna", "ሃና"),
        ("Tirhas", "ትርሓስ"),
        ("Abeba", "ኣበባ"),
        ("Mizan", "ሚዛን"),
        ("Simret", "ስምረት"),
        ("Yodit", "ዮዲት"),
        ("Rahwa", "ራሕዋ"),
        ("Delina", "ደሊና"),
        ("Eyerusalem", "እየሩሳሌም"),
        ("Sabrina", "ሳብሪና"),
    ]
]
ARABIC_MALE_TAIL: list[Name] = [
    ((latin,), arabic)
    for latin, arabic in [
        ("Sami", "سامي"),
        ("Walid", "وليد"),
        ("Nabil", "نبيل"),
        ("Majid", "ماجد"),
        ("Faisal", "فيصل"),
        ("Saeed", "سعيد"),
        ("Hamid", "حامد"),
        ("Rashid", "راشد"),
        ("Zakaria", "زكريا"),
        ("Yahya", "يحيى"),
        ("Anas", "أنس"),
        ("Amir", "أمير"),
        ("Ayman", "أيمن"),
        ("Badr", "بدر"),
        ("Fadi", "فادي"),
        ("Hadi", "هادي"),
        ("Hisham", "هشام"),
        ("Imran", "عمران"),
        ("Jaber", "جابر"),
        ("Kamal", "كمال"),
        ("Marwan", "مروان"),
        ("Qasim", "قاسم"),
        ("Ramadan", "رمضان"),
        ("Saleh", "صالح"),
        ("Tamer", "تامر"),
        ("Yasir", "ياسر"),
        ("Ziad", "زياد"),
        ("Mahmoud", "محمود"),
        ("Abdelaziz", "عبد العزيز"),
        ("Abdelkarim", "عبد الكريم"),
        ("Elias", "إلياس"),
        ("Suleiman", "سليمان"),
        ("Haroun", "هارون"),
        ("Dawood", "داود"),
        ("Mujahid", "مجاهد"),
        ("Osama", "أسامة"),
        ("Bakri", "بكري"),
        ("Fathi", "فتحي"),
        ("Ammar", "عمار"),
        ("Moaz", "معاذ"),
    ]
]
ARABIC_FEMALE_TAIL: list[Name] = [
    ((latin,), arabic)
    for latin, arabic in [
        ("Rania", "رانيا"),
        ("Salma", "سلمى"),
        ("Yasmin", "ياسمين"),
        ("Rawan", "روان"),
        ("Malak", "ملاك"),
        ("Jana", "جنى"),
        ("Sara", "سارة"),
        ("Dalia", "داليا"),
        ("Reem", "ريم"),
        ("Amal", "أمل"),
        ("Asma", "أسماء"),
        ("Khadija", "خديجة"),
        ("Safiya", "صفية"),
        ("Sumaya", "سمية"),
        ("Nada", "ندى"),
        ("Lina", "لينا"),
        ("Iman", "إيمان"),
        ("Hiba", "هبة"),
        ("Ruqaya", "رقية"),
        ("Tasneem", "تسنيم"),
        ("Afaf", "عفاف"),
        ("Nawal", "نوال"),
        ("Mona", "منى"),
        ("Shaima", "شيماء"),
    ]
]
PERSIAN_MALE_TAIL: list[Name] = [
    ((latin,), persian)
    for latin, persian in [
        ("Hamid", "حمید"),
        ("Nasir", "ناصر"),
        ("Bashir", "بشیر"),
        ("Habib", "حبیب"),
        ("Wahid", "وحید"),
        ("Jamshid", "جمشید"),
        ("Omid", "امید"),
        ("Milad", "میلاد"),
        ("Ehsan", "احسان"),
        ("Sajjad", "سجاد"),
        ("Amir", "امیر"),
        ("Arash", "آرش"),
        ("Idris", "ادریس"),
        ("Yama", "یما"),
        ("Samiullah", "سمیع الله"),
        ("Ezatullah", "عزت الله"),
        ("Noorullah", "نورالله"),
        ("Khalil", "خلیل"),
        ("Karim", "کریم"),
        ("Shafiq", "شفیق"),
        ("Rohullah", "روح الله"),
        ("Hasibullah", "حسیب الله"),
        ("Asadullah", "اسدالله"),
        ("Ajmal", "اجمل"),
        ("Fawad", "فواد"),
        ("Ismail", "اسماعیل"),
        ("Nabi", "نبی"),
        ("Qasim", "قاسم"),
    ]
]
PERSIAN_FEMALE_TAIL: list[Name] = [
    ((latin,), persian)
    for latin, persian in [
        ("Nargis", "نرگس"),
        ("Marzia", "مرضیه"),
        ("Sakina", "سکینه"),
        ("Masooma", "معصومه"),
        ("Latifa", "لطیفه"),
        ("Nazanin", "نازنین"),
        ("Mahsa", "مهسا"),
        ("Setareh", "ستاره"),
        ("Nilofar", "نیلوفر"),
        ("Farzana", "فرزانه"),
        ("Roya", "رویا"),
        ("Sima", "سیما"),
        ("Shirin", "شیرین"),
        ("Mina", "مینا"),
        ("Hadia", "هدیه"),
    ]
]

GIVEN_POOLS: dict[tuple[str, str], Pool] = {
    ("uk", "M"): _pool(
        UK_MALE,
        _composed("Ja Ka Ry Bra Ma Ta Ke Da Le Ca Ha Co Ro", "den lan son ley ron yce iah lyn tyn drick", 11),
        0.6,
        0.15,
    ),
    ("uk", "F"): _pool(
        UK_FEMALE,
        _composed("Ja Ka Ma Ta Ke Da Le Ca Ha Ro Sa Bri La", "nna lee lyn ssa ya ley ra nie na cey", 12),
        0.6,
        0.15,
    ),
    ("albanian", "M"): _pool(
        ALBANIAN_MALE,
        _composed("Ar Bes Dri Ed Fla Gen Ili Kle Lu Mar Re Sok Vi Xhe", "ion ni tan lind nit ri jan an", 13),
        0.6,
        0.5,
    ),
    ("albanian", "F"): _pool(
        ALBANIAN_FEMALE,
        _composed("A Bes Dri E Fla Gen Ili Kle Lu Mar Re So Vi Xhe", "ona ira ida sa jola nisa rta", 14),
        0.6,
        0.4,
    ),
    # Muhammad (all spellings) ~10 % of boys, Fatima ~5 % of girls; the rest Zipf by rank.
    ("arabic", "M"): _pool(ARABIC_MALE[:1], ARABIC_MALE[1:] + ARABIC_MALE_TAIL, 0.10, tail_skew=0.8),
    ("arabic", "F"): _pool(ARABIC_FEMALE[:1], ARABIC_FEMALE[1:] + ARABIC_FEMALE_TAIL, 0.05, tail_skew=0.7),
    ("persian", "M"): _pool(PERSIAN_MALE[:1], PERSIAN_MALE[1:] + PERSIAN_MALE_TAIL, 0.10, tail_skew=0.8),
    ("persian", "F"): _pool(PERSIAN_FEMALE[:1], PERSIAN_FEMALE[1:] + PERSIAN_FEMALE_TAIL, 0.05, tail_skew=0.7),
    ("geez", "M"): _pool(GEEZ_MALE, GEEZ_MALE_TAIL, 0.5, 0.6),
    ("geez", "F"): _pool(GEEZ_FEMALE, GEEZ_FEMALE_TAIL, 0.45, 0.6),
    ("romanian", "M"): _pool(
        ROMANIAN_MALE, _composed("Vlad Rad Cos Dor Sor Lau Cat Ovi Tra Val", "u in el ian ică", 15), 0.6, 0.5
    ),
    ("romanian", "F"): _pool(
        ROMANIAN_FEMALE, _composed("Ral Cor Dan Lau Mir Roxa Sim Bian Cri Lor", "uca ina iela ana ica", 16), 0.6, 0.5
    ),
    ("nigerian", "M"): _pool(
        NIGERIAN_MALE,
        _composed("Ade Olu Chi Ike Nna Femi Tobi Kay Segun Uche", "dayo mide bueze nna kunle", 17),
        0.6,
        0.5,
    ),
    ("nigerian", "F"): _pool(
        NIGERIAN_FEMALE,
        _composed("Ade Olu Chi Ada Nne Temi Bola Yemi Amara Uju", "ola nna ugo kemi tola", 18),
        0.6,
        0.5,
    ),
}
UK_FAMILY_POOL = _pool(
    [(name, 1.26 / (rank + 1) ** 0.8) for rank, name in enumerate(UK_FAMILY)],
    _composed(
        "Ash Brad Carr Dal Ell Fair Green Hal Kirk Lang Mar North Pem Rad Shel Thorn Wal Whit Brom Cal "
        "Dun Fen Hart Hol Mid Ox Rook Stan Ting Wood Ack Bel Chad Dor East Ford Gil Hen Lyn Mor Pen "
        "Ross Sut Tan Wel",
        "ton ley worth field by ham ford well wood shaw more croft wick son er stone bury den hurst",
        19,
    ),
    head_share=0.11,
    tail_skew=0.2,
)
FAMILY_POOLS: dict[str, Pool] = {
    "uk": UK_FAMILY_POOL,
    "albanian": _pool(
        ALBANIAN_FAMILY,
        _composed(
            "Hox Kra Ber Lek Der Kol Mar Pri Baj Taf Duk Mem Shk Gjo Zen Ram Vel Rex Lul "
            "Bal Cel Dem Ha Is Lam Mus Nik Rus Sel Tar",
            "haj aj iqi ishaj ollaku ani ija eti uka ushi",
            20,
        ),
        0.35,
        0.6,
    ),
    "arabic": _pool(
        ARABIC_FAMILY,
        FAMILY_TAILS["arabic"]
        + [
            ((f"{root}", f"{root}i"), "")
            for root in [
                "Abdalla",
                "Babiker",
                "Elhaj",
                "Elsheikh",
                "Hamdan",
                "Ishag",
                "Kuku",
                "Mohieldin",
                "Omer",
                "Osman",
                "Yagoub",
                "Zakaria",
                "Hamad",
                "Ageeb",
                "Gaafar",
                "Taha",
                "Mustafa",
                "Khidir",
                "Fadlalla",
                "Bashir",
                "Gamar",
                "Haroun",
                "Siddig",
                "Tijani",
                "Nimir",
                "Karrar",
                "Elnour",
                "Bakheet",
                "Idris",
            ]
        ],
        0.5,
        0.8,
    ),
    "persian": _pool(
        PERSIAN_FAMILY,
        FAMILY_TAILS["persian"]
        + _composed("Nazar Amir Habib Shar Rasul Samad Hamid Safar Nasir Akbar Qader Zaman", "i zai yar khel zada", 21),
        0.5,
        0.6,
    ),
    "romanian": _pool(ROMANIAN_FAMILY, FAMILY_TAILS["romanian"], 0.4, 0.6),
    "nigerian": _pool(NIGERIAN_FAMILY, FAMILY_TAILS["nigerian"], 0.4, 0.6),
}

# Name style per nationality, and NRM-like shares of child referrals (UK children are the largest group).
NATIONALITIES: list[tuple[str, str, float]] = [
    ("GBR", "uk", 40),
    ("ALB", "albanian", 8),
    ("VNM", "viet", 9),
    ("ERI", "geez", 8),
    ("ETH", "geez", 1.5),
    ("SDN", "arabic", 7),
    ("IRQ", "arabic", 3),
    ("SYR", "arabic", 1.5),
    ("EGY", "arabic", 1),
    ("AFG", "persian", 8),
    ("IRN", "persian", 3),
    ("ROU", "romanian", 3),
    ("NGA", "nigerian", 3),
    ("SSD", "arabic", 0.5),
]
CONFUSED_NATIONALITY = {
    "ERI": "ETH",
    "ETH": "ERI",
    "SDN": "SSD",
    "SSD": "SDN",
    "AFG": "IRN",
    "IRN": "AFG",
    "SYR": "IRQ",
    "IRQ": "SYR",
}
LOCAL_AUTHORITIES = [
    "Kent",
    "Croydon",
    "Hillingdon",
    "Birmingham",
    "Manchester",
    "Leeds",
    "Liverpool",
    "Bristol",
    "Glasgow City",
    "Cardiff",
    "Newcastle upon Tyne",
    "Sheffield",
    "Nottingham",
    "Leicester",
    "Coventry",
    "Bradford",
    "Lambeth",
    "Southwark",
    "Newham",
    "Tower Hamlets",
    "Ealing",
    "Brent",
    "Portsmouth",
    "Southampton",
    "Belfast",
    "Luton",
    "Peterborough",
    "Stoke-on-Trent",
    "Wolverhampton",
    "Oxfordshire",
    "Essex",
    "Hampshire",
    "Northamptonshire",
]
# Where children are looked after: unaccompanied children arrive mostly through Kent, Hillingdon (Heathrow) and
# Croydon (the Home Office's intake unit), so those authorities hold far more referrals than the rest (an
# estimate of the shape, not a published count). A child's referrals are mostly made where the child is looked
# after (by its police, its social workers, an NGO there); the rest where the child was found after going
# missing. HOME_AUTHORITY_SHARE is an estimate: no published figure gives it.
AUTHORITY_WEIGHTS = [8, 6, 5] + [2] * (len(LOCAL_AUTHORITIES) - 3)
HOME_AUTHORITY_SHARE = 0.6
# Siblings found together are referred together (same day, same authority): a hard negative that agrees on
# everything but the given name and the date of birth. Half of all families with more than one child referred
# is an estimate; no published figure gives it.
SIBLINGS_REFERRED_TOGETHER = 0.5
# One referral in five after a child's first is another first responder referring the same episode (police,
# then the local authority, then an NGO) within a week: an estimate, no published figure gives it.
SAME_EPISODE_SHARE = 0.2
ORIGINAL_SCRIPT_STYLES = {"arabic", "persian", "geez", "viet"}
FIRST_REFERRAL_DATE = dt.date(2020, 1, 1)
LAST_REFERRAL_DATE = dt.date(2026, 10, 31)
FIRST_BIRTH_DATE = dt.date(2007, 1, 1)
LAST_BIRTH_DATE = dt.date(2017, 12, 31)
# A bigger set at the UK's density is the same referral stream over more periods ("eras"), each this many years
# earlier than the one after it, so that the children of two eras are born in different years (but for assessed
# ages, which reach into the era before): a million children's referrals are decades of the UK's, not 22 times as
# many children born in the same 11 years (ADR 0026).
ERA_YEARS = LAST_BIRTH_DATE.year - FIRST_BIRTH_DATE.year + 1
# Referrals of children the UK made in the referral window above: 24,899 in 2020-2023, then 2023's 7,432 a year
# (ADR 0020). A set of this many records in one era is at about the UK's density.
UK_RECORDS_PER_ERA = 46_000


def eras_at_uk_density(size: int) -> int:
    """How many eras keep a set of `size` records at about the UK's density (1 up to about 69,000 records)."""
    return max(1, round(size / UK_RECORDS_PER_ERA))


@dataclass
class Record:
    row: dict[str, str]
    truth: dict[str, str]


@dataclass
class Person:
    person_id: int
    family_id: int
    relation: str
    nationality: str
    style: str
    sex: str
    dob: dt.date
    given: list[Name]
    family: list[Name]
    alias: str = ""
    assessed_dob: dt.date | None = None
    referrals: int = 1
    authority: str = ""  # the local authority looking after the child (siblings share it)
    variant_choice: dict[int, int] = field(default_factory=dict)
    era: int = 0  # how many eras earlier than the last this child's family was referred (see ERA_YEARS)


def _given_tables(style: str, sex: str) -> tuple[Name, ...]:
    return GIVEN_POOLS[(style, sex)].names


def _family_table(style: str) -> tuple[Name, ...]:
    return FAMILY_POOLS[style].names


def _new_given(rng: random.Random, style: str, sex: str, avoid: set[str]) -> list[Name]:
    """Given name(s) of a new child, different from any sibling's (`avoid`: their first spellings)."""
    for _ in range(50):
        if style == "viet":
            names = [_pick(rng, VIET_MIDDLE_POOLS[sex]), _pick(rng, VIET_GIVEN_POOLS[sex])]
        else:
            names = [_pick(rng, GIVEN_POOLS[(style, sex)])]
            if style == "uk" and rng.random() < 0.3:
                second = _pick(rng, GIVEN_POOLS[(style, sex)])
                if second != names[0]:
                    names.append(second)
        if not {name[0][0] for name in names} & avoid:
            return names
    return names


def _new_family(rng: random.Random, style: str) -> list[Name]:
    """The family name(s) siblings share: for Ge'ez names the father's and grandfather's given names,
    drawn from the male given-name distribution (fathers and grandfathers are named like sons)."""
    if style == "viet":
        return [_pick(rng, VIET_FAMILY_POOL)]
    if style == "geez":
        return [_pick(rng, GIVEN_POOLS[("geez", "M")]), _pick(rng, GIVEN_POOLS[("geez", "M")])]
    if style in ("arabic", "persian") and rng.random() < 0.35:
        # Father's name then a family name, as Sudanese and Iraqi children are often recorded.
        return [_pick(rng, GIVEN_POOLS[(style, "M")]), _pick(rng, FAMILY_POOLS[style])]
    return [_pick(rng, FAMILY_POOLS[style])]


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _families(rng: random.Random) -> Iterator[list[Person]]:
    """Families of one or more children; siblings and twins are the hard negatives."""
    person_id = 0
    family_id = 0
    nat_weights = [w for _, _, w in NATIONALITIES]
    while True:
        family_id += 1
        nationality, style, _ = rng.choices(NATIONALITIES, weights=nat_weights)[0]
        family = _new_family(rng, style)
        roll = rng.random()
        children = 1 if roll < 0.84 else (2 if roll < 0.96 else 3)
        twins = children >= 2 and rng.random() < 0.25
        first_dob = _random_date(rng, FIRST_BIRTH_DATE, LAST_BIRTH_DATE)
        people: list[Person] = []
        # Children are not given their father's or grandfather's name (Ge'ez and Arabic names carry them).
        avoid: set[str] = {name[0][0] for name in family}
        for index in range(children):
            person_id += 1
            sex = rng.choice("MF") if rng.random() < 0.9 else ("M" if style in ("arabic", "persian", "geez") else "F")
            if index == 0:
                dob, relation = first_dob, ("" if children == 1 else "twin" if twins else "sibling")
            elif index == 1 and twins:
                dob, relation = first_dob, "twin"
            else:
                dob = first_dob + dt.timedelta(days=rng.choice([-1, 1]) * rng.randrange(300, 1500))
                relation = "sibling"
            given = _new_given(rng, style, sex, avoid)
            avoid.update(name[0][0] for name in given)
            person = Person(person_id, family_id, relation, nationality, style, sex, dob, given, family)
            age_at_2024 = (dt.date(2024, 6, 1) - dob).days / 365.25
            if style != "uk" and age_at_2024 > 12 and rng.random() < 0.35:
                # The age is disputed: an assessment made the child two to six years older.
                person.assessed_dob = dt.date(dob.year - rng.randint(2, 6), 1, 1)
            if rng.random() < 0.12:
                # A street name or a made-up Western name, used by the child or given by the exploiters.
                alias_style = (
                    style
                    if style in ("uk", "albanian", "arabic", "persian", "romanian", "nigerian") and rng.random() < 0.5
                    else "uk"
                )
                person.alias = (
                    rng.choice(_given_tables(alias_style, sex))[0][0]
                    + " "
                    + rng.choice(_family_table(alias_style))[0][0]
                )
            roll = rng.random()
            person.referrals = (
                1
                if roll < 0.45
                else 2
                if roll < 0.72
                else 3
                if roll < 0.86
                else 4
                if roll < 0.94
                else rng.randint(5, 8)
            )
            people.append(person)
        yield people


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    position = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.3:
        return word[:position] + word[position + 1 :]
    if kind < 0.55:
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if kind < 0.8:
        return word[:position] + rng.choice("aeioubdgklmnrst") + word[position + 1 :]
    return word[:position] + word[position] + word[position:]


def _spelling(rng: random.Random, person: Person, slot: int, name: Name) -> str:
    """Each agency keeps to one spelling more often than not; some pick another variant."""
    variants = name[0]
    if len(variants) == 1:
        return variants[0]
    usual = person.variant_choice.setdefault(slot, 0 if rng.random() < 0.6 else rng.randrange(len(variants)))
    return variants[usual] if rng.random() < 0.6 else rng.choice(variants)


def _referral(rng: random.Random, person: Person, record_id: str, referral_date: dt.date) -> Record:
    style = person.style
    given = [_spelling(rng, person, i, name) for i, name in enumerate(person.given)]
    family = [_spelling(rng, person, 10 + i, name) for i, name in enumerate(person.family)]
    original_given = [name[1] for name in person.given]
    original_family = [name[1] for name in person.family]
    if style == "geez" and len(family) == 2 and rng.random() < 0.4:
        family, original_family = family[:1], original_family[:1]  # grandfather's name dropped
    if style == "viet" and rng.random() < 0.3:
        given = given[1:]  # middle name (Van/Thi) left out
    if style in ("arabic", "persian"):
        family = [_particle_variant(rng, part) for part in family]
    if rng.random() < 0.10:
        tokens = given + family
        index = rng.randrange(len(tokens))
        tokens[index] = _typo(rng, tokens[index])
        given, family = tokens[: len(given)], tokens[len(given) :]

    name_order = "normal"
    if style == "viet" and rng.random() < 0.25:
        # Vietnamese order written into the boxes: family name first, in the given-names box.
        given, family = family, given
        name_order = "swapped"
    elif rng.random() < 0.04:
        given, family = family, given
        name_order = "swapped"

    original = ""
    script_only = False
    # Only names the tables hold in their original script are written in it (the syllable-built tails are not).
    scripted = all(name[1] for name in person.given + person.family)
    if style in ORIGINAL_SCRIPT_STYLES and scripted and rng.random() < 0.45:
        original = (
            " ".join(original_family + original_given)
            if style == "viet"
            else " ".join(original_given + original_family)
        )
        if rng.random() < 0.25:
            given, family, script_only = [], [], True  # only the original script was recorded

    aliases = person.alias if person.alias and rng.random() < 0.6 else ""
    if person.alias and not script_only and rng.random() < 0.06:
        # Referred under the alias; the real name kept as the alias.
        aliases = " ".join(given + family)
        alias_given, _, alias_family = person.alias.partition(" ")
        given, family = [alias_given], [alias_family]

    dob_kind = "claimed"
    dob: dt.date | None = person.dob
    precision = rng.choices(["day", "month", "year"], weights=[80, 10, 10])[0]
    if person.assessed_dob and rng.random() < 0.45:
        dob, precision, dob_kind = person.assessed_dob, "estimated", "assessed"
    elif precision == "day":
        roll = rng.random()
        if roll < 0.04 and dob.day <= 12 and dob.day != dob.month:
            dob = dt.date(dob.year, dob.day, dob.month)
        elif roll < 0.08:
            dob = dob + dt.timedelta(days=rng.choice([-1, 1, -10, 10, -365, 365]))
        elif roll < 0.11:
            dob = dt.date(dob.year, 1, 1)
            precision = "estimated"
    if rng.random() < 0.03:
        dob, precision = None, ""
    if dob and precision == "month":
        dob = dob.replace(day=1)
    if dob and precision == "year":
        dob = dob.replace(month=1, day=1)

    nationalities = [person.nationality]
    roll = rng.random()
    if roll < 0.10 and person.nationality in CONFUSED_NATIONALITY:
        nationalities = [CONFUSED_NATIONALITY[person.nationality]]
    elif roll < 0.14:
        nationalities = []
    sex = person.sex if rng.random() > 0.02 else rng.choice(["", "M" if person.sex == "F" else "F"])
    elsewhere = rng.choice(LOCAL_AUTHORITIES)  # where a child missing from care is found: anywhere
    row = {
        "record_id": record_id,
        "given_names": " ".join(given),
        "family_name": " ".join(family),
        "aliases": aliases,
        "names_in_original_script": original,
        "date_of_birth": dob.isoformat() if dob else "",
        "date_of_birth_precision": precision,
        "sex": sex,
        "nationalities": ";".join(nationalities),
        "local_authority": elsewhere,
        "referral_date": referral_date.isoformat(),
    }
    truth = {
        "record_id": record_id,
        "person_id": str(person.person_id),
        "family_id": str(person.family_id),
        "relation": person.relation,
        "script_only": "1" if script_only else "0",
        "dob_kind": dob_kind,
        "name_order": name_order,
    }
    return Record(row, truth)


def _particle_variant(rng: random.Random, name: str) -> str:
    """al-Hassan / el-Hassan / Al Hassan / Alhassan / Hassan: particles written every way."""
    lowered = name.lower()
    for particle in ("al-", "el-", "al ", "el "):
        if lowered.startswith(particle):
            rest = name[len(particle) :]
            return rng.choice([f"al-{rest}", f"el-{rest}", f"Al {rest}", f"Al{rest.lower()}", rest, name])
    return name


def generate(size: int, seed: int = 1, eras: int = 1) -> Iterator[Record]:
    """Exactly `size` referral records (people interleaved in referral order), deterministic for a seed.

    With `eras` above 1 each family is referred in one of that many eras (ERA_YEARS apart, the latest the usual
    one): the same children and noise, their dates earlier; with 1 the records are those it has always made."""
    rng = random.Random(seed)
    # Eras come from a stream of their own too, so that one era leaves every record as it was.
    era_of = random.Random(f"era-{seed}")
    # Places and siblings' shared referrals come from a stream of their own, so that changing how they are drawn
    # leaves the children and their noise as they are.
    context = random.Random(f"authority-{seed}")
    produced = 0
    start = FIRST_REFERRAL_DATE
    pending: list[tuple[dt.date, int, bool, Person]] = []
    families = _families(rng)
    # Referrals of one child are spread over months; emit them in roughly date order with a small window.
    while produced < size:
        family = next(families)
        era = era_of.randrange(eras) if eras > 1 else 0
        for person in family:
            person.era = era
        home = context.choices(LOCAL_AUTHORITIES, weights=AUTHORITY_WEIGHTS)[0]
        together = len(family) > 1 and context.random() < SIBLINGS_REFERRED_TOGETHER
        first_day = None
        for person in family:
            person.authority = home
            day = _random_date(rng, start, LAST_REFERRAL_DATE)
            if together:
                # Siblings found together are referred together: the same day, by the same authority.
                first_day = day = first_day or day
            referred = day
            for n in range(person.referrals):
                if n:
                    # Another first responder referring the same episode within days, or a new episode months later.
                    referred += dt.timedelta(
                        days=rng.randint(0, 7) if rng.random() < SAME_EPISODE_SHARE else rng.randint(20, 400)
                    )
                if referred > LAST_REFERRAL_DATE:
                    break  # not made yet
                pending.append((referred, person.person_id, together and n == 0, person))
        if len(pending) >= 64 or produced + len(pending) >= size:
            rng.shuffle(pending)
            while pending and produced < size:
                referral_date, _, with_siblings, person = pending.pop()
                produced += 1
                record = _referral(rng, person, f"R{produced:07d}", referral_date)
                if with_siblings or context.random() < HOME_AUTHORITY_SHARE:
                    record.row["local_authority"] = person.authority
                if person.era:
                    for column in ("date_of_birth", "referral_date"):
                        record.row[column] = _years_earlier(record.row[column], ERA_YEARS * person.era)
                yield record


def _years_earlier(value: str, years: int) -> str:
    """An ISO date `years` earlier (29 February becomes the 28th in a common year); "" stays ""."""
    if not value:
        return value
    day = dt.date.fromisoformat(value)
    return (
        day.replace(year=day.year - years, day=28)
        if (day.month, day.day) == (2, 29)
        else day.replace(year=day.year - years)
    ).isoformat()


def write(size: int, input_path: Path, truth_path: Path, seed: int = 1, eras: int = 1) -> int:
    """Stream `size` records to `input_path` (contract format) and their truth to `truth_path`."""
    count = 0
    with (
        open(input_path, "w", newline="", encoding="utf-8") as input_file,
        open(truth_path, "w", newline="", encoding="utf-8") as truth_file,
    ):
        input_writer = csv.DictWriter(input_file, fieldnames=INPUT_COLUMNS)
        truth_writer = csv.DictWriter(truth_file, fieldnames=TRUTH_COLUMNS)
        input_writer.writeheader()
        truth_writer.writeheader()
        for record in generate(size, seed, eras):
            input_writer.writerow(record.row)
            truth_writer.writerow(record.truth)
            count += 1
    return count


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write a synthetic linkage evaluation set (input CSV + truth CSV).")
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--eras",
        default="1",
        help=(
            "spread the families over this many periods of 11 years of births (default 1); --eras uk: as many as keep the "
            "set at about the UK's density of child referrals (1 up to about 69,000 records, 22 at a million)"
        ),
    )
    parser.add_argument("--output", type=Path, required=True, help="input CSV; the truth goes beside it as *.truth.csv")
    args = parser.parse_args(argv)
    truth = args.output.with_suffix(".truth.csv")
    if args.eras != "uk" and not args.eras.isdigit():
        parser.error(f"--eras must be a whole number or 'uk', not {args.eras!r}")
    eras = eras_at_uk_density(args.size) if args.eras == "uk" else max(1, int(args.eras))
    count = write(args.size, args.output, truth, args.seed, eras)
    print(f"{count} records to {args.output}, truth to {truth}")


if __name__ == "__main__":
    main()
