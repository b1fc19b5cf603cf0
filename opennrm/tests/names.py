"""Names for the tests of what a name is (issue 22): real names in many scripts, and text that is not a name.

Each refused sample is given with the start of the message it must be refused with, in the API and the pages.
"""

# Synthetic names. Vietnamese is typed decomposed (e + combining circumflex + combining tilde) on purpose;
# Persian uses the zero-width non-joiner and Malayalam the zero-width joiner, as their spellings do.
REAL_NAMES = {
    "arabic": "فاطمة الزهراء",
    "amharic": "ሰላማዊት ተስፋዬ",
    "tigrinya": "ተስፋይ ገብረመድህን",
    "vietnamese-combining": "Nguye\u0302\u0303n Thị Ánh",
    "chinese": "王小明",
    "persian-zwnj": "محمد\u200cرضا",
    "malayalam-zwj": "കൃഷ്ണന്\u200d",
}

NO_LETTER = "Must include at least one letter, in any script"
NOT_NAMES = {
    "spaces": ("   ", NO_LETTER),
    "no-break-space": ("\u00a0", NO_LETTER),
    "em-and-en-spaces": ("\u2003\u2002", NO_LETTER),
    "ideographic-space": ("\u3000", NO_LETTER),
    "digits": ("12345", NO_LETTER),
    "punctuation": ("-'.", NO_LETTER),
    "combining-marks-only": ("\u0301\u0303", NO_LETTER),
    "joiners-only": ("\u200c\u200d", NO_LETTER),
    "zero-width-space": ("\u200b", "Remove the invisible character U+200B (zero width space)"),
    "byte-order-mark": ("\ufeff", "Remove the invisible character U+FEFF (zero width no-break space)"),
    "right-to-left-override": ("Anh\u202eNguyen", "Remove the invisible character U+202E (right-to-left override)"),
    "first-strong-isolate": ("\u2068Anh\u2069", "Remove the invisible character U+2068 (first strong isolate)"),
    "control-character": ("Anh\x1bNguyen", "Remove the invisible character U+001B (a control character)"),
}
