"""Sample employers' identifiers, derived from the province and the employer's serial number there
(unit code, enterprise tax code, a household owner's personal number) and read back to that serial,
so identifiers are unique across the country without shared state; and each province's profile
(unit-code letters, tax-code prefixes, relative number of employers)."""
from __future__ import annotations

import re
from random import Random

from stdnum.vn import mst


# --- Provinces: unit-code letters, tax-code prefixes (the main merged province's old MST prefix
# first; a second one takes the bases whose check digit would be 10), relative number of employers.
# Plausible, not official: the agency's real code tables are not public.
PROVINCE_PROFILES = {
    "01": ("HN", ("01", "05"), 20.0), "04": ("CB", ("48", "85"), 0.25), "08": ("TQ", ("50", "72"), 0.5),
    "11": ("DB", ("56", "73"), 0.25), "12": ("LC", ("62", "74"), 0.2), "14": ("SL", ("55", "75"), 0.4),
    "15": ("LA", ("53", "76"), 0.6), "19": ("TN", ("46", "77"), 1.0), "20": ("LS", ("49", "78"), 0.4),
    "22": ("QN", ("57", "79"), 1.5), "24": ("BN", ("23", "24"), 3.0), "25": ("PT", ("26", "25"), 2.0),
    "31": ("HP", ("02", "08"), 4.0), "33": ("HY", ("09", "10"), 2.0), "37": ("NB", ("27", "07"), 2.0),
    "38": ("TH", ("28", "81"), 2.0), "40": ("NA", ("29", "82"), 2.0), "42": ("HT", ("30", "86"), 0.8),
    "44": ("QT", ("32", "31"), 0.7), "46": ("HU", ("33", "84"), 0.8), "48": ("DN", ("04", "40"), 3.0),
    "51": ("QG", ("43", "61"), 1.0), "52": ("GL", ("59", "41"), 1.0), "56": ("KH", ("42", "45"), 1.5),
    "66": ("DL", ("60", "44"), 1.0), "68": ("LD", ("58", "34"), 1.5), "75": ("DI", ("36", "38"), 4.0),
    "79": ("HM", ("03", "35"), 28.0), "80": ("TY", ("39", "11"), 2.5), "82": ("DT", ("14", "12"), 1.0),
    "86": ("VL", ("15", "13"), 1.0), "91": ("AG", ("16", "17"), 1.2), "92": ("CT", ("18", "21"), 1.5),
    "96": ("CM", ("20", "22"), 0.7),
}


_UNIT_CODE = re.compile(r"^([A-Z]{2})(\d{4})([A-Z]{1,2})$")


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


MAX_SERIAL = 10_000 * (26 + 26 * 26) - 1


def unit_code(province_code: str, serial: int) -> str:
    """'HN0123A': province letters, four digits, then a letter (two past 260,000 employers)."""
    if not 0 < serial <= MAX_SERIAL:
        raise ValueError(f"serial {serial} outside 1..{MAX_SERIAL}")
    block, number = divmod(serial, 10_000)
    suffix = _LETTERS[block] if block < 26 else _LETTERS[(block - 26) // 26] + _LETTERS[(block - 26) % 26]
    return f"{PROVINCE_PROFILES[province_code][0]}{number:04d}{suffix}"


def unit_serial(code: str) -> int | None:
    """The serial a unit code was made from, or None when the code is not of this generator."""
    match = _UNIT_CODE.match(code.strip())
    if not match:
        return None
    letters = match.group(3)
    block = _LETTERS.index(letters) if len(letters) == 1 else \
        26 + 26 * _LETTERS.index(letters[0]) + _LETTERS.index(letters[1])
    return block * 10_000 + int(match.group(2))


# Primes p with p % 3 == 2, so that cubing is a permutation of 0..p-1.
TAX_BODY_PRIME = 9_999_971


PERSONAL_TAIL_PRIME = 999_983


def _scramble(number: int, prime: int) -> int:
    """A permutation of 0..prime-1 (taken modulo prime) that hides the order of serials: a cube, then
    an affine step."""
    return (pow(number % prime, 3, prime) * 7_654_321 + 1_234_567) % prime


def _province_offset(province_code: str) -> int:
    """Shifts the serials of each province, so that serial 1 of two provinces do not share digits."""
    return 104_729 * int(province_code)


def enterprise_tax_code(province_code: str, serial: int) -> str:
    """A valid 10-digit MST, one per (province, serial): prefix + a scrambled serial + check digit.

    The body is 1 + a permutation of 0..9,999,970, never the all-zero body stdnum rejects;
    a base whose check digit would be 10 takes the province's second prefix, whose weighted digits
    differ modulo 11, so its check digit is a single digit.
    """
    body = 1 + _scramble(serial + _province_offset(province_code), TAX_BODY_PRIME)
    for prefix in PROVINCE_PROFILES[province_code][1]:
        base = f"{prefix}{body:07d}"
        check = mst.calc_check_digit(base)
        if len(check) == 1:
            return base + check
    raise AssertionError(f"province {province_code}: both tax prefixes give check digit 10 for {body}")


def personal_number(province_code: str, serial: int, rng: Random) -> str:
    """A citizen ID as households use: 0 + province code, century/sex digit, birth year, six digits.

    The serial's millions choose sex and century, the rest is scrambled into the last six digits,
    so the number is unique per (province, serial) up to almost four million serials.
    """
    block, rest = divmod(serial, PERSONAL_TAIL_PRIME)
    if block > 3:
        raise ValueError(f"serial {serial}: too many household numbers for one province")
    year = rng.randint(1955, 1999) if block < 2 else rng.randint(2000, 2006)
    tail = _scramble(rest + _province_offset(province_code), PERSONAL_TAIL_PRIME)
    return f"0{province_code}{block}{year % 100:02d}{tail:06d}"


def _unscramble(value: int, prime: int) -> int:
    """The inverse of `_scramble`: the affine step undone, then the cube root (the exponent that
    inverts 3 modulo prime - 1, which exists because prime % 3 == 2)."""
    cube = (value - 1_234_567) * pow(7_654_321, -1, prime) % prime
    return pow(cube, pow(3, -1, prime - 1), prime)


def tax_serial(province_code: str, kind: str, tax: str) -> int | None:
    """The serial an enterprise tax code or a personal number of this generator was made from, for
    reports that carry no unit code; None for a branch (its code is its parent's) or a foreign code."""
    offset = _province_offset(province_code)
    if kind == "enterprise" and tax[:2] in PROVINCE_PROFILES[province_code][1]:
        return (_unscramble(int(tax[2:9]) - 1, TAX_BODY_PRIME) - offset) % TAX_BODY_PRIME
    if kind == "personal" and tax[1:3] == province_code:
        rest = (_unscramble(int(tax[6:]), PERSONAL_TAIL_PRIME) - offset) % PERSONAL_TAIL_PRIME
        return int(tax[3]) * PERSONAL_TAIL_PRIME + rest
    return None

