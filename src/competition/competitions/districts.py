"""District keys. The five of the Regionalkonvent Chemnitz (Masterplan Südwestsachsen) are the
usual eligible area; any other German district key is accepted and simply not eligible unless a
competition lists it."""

from __future__ import annotations

from typing import Final

from competition.text import END

SUEDWESTSACHSEN: Final = (
    "chemnitz",
    "zwickau",
    "erzgebirgskreis",
    "mittelsachsen",
    "vogtlandkreis",
)

NAMES: Final[dict[str, str]] = {
    "chemnitz": "Chemnitz",
    "zwickau": "Landkreis Zwickau",
    "erzgebirgskreis": "Erzgebirgskreis",
    "mittelsachsen": "Landkreis Mittelsachsen",
    "vogtlandkreis": "Vogtlandkreis",
    "leipzig": "Leipzig",
    "landkreis-leipzig": "Landkreis Leipzig",
    "dresden": "Dresden",
    "bautzen": "Landkreis Bautzen",
    "goerlitz": "Landkreis Görlitz",
    "meissen": "Landkreis Meißen",
    "nordsachsen": "Landkreis Nordsachsen",
    "saechsische-schweiz-osterzgebirge": "Landkreis Sächsische Schweiz-Osterzgebirge",
}

KEY_PATTERN: Final = r"^[a-z][a-z0-9-]{1,62}" + END


def name(key: str) -> str:
    return NAMES.get(key, key.replace("-", " ").title())


def area(eligible: list[str]) -> str:
    """The eligible area as people read it: its districts' names."""
    return ", ".join(name(d) for d in eligible)


def eligibility(district: str, eligible: list[str], locale: str = "de") -> tuple[bool, str]:
    """The verdict and its reason, stored with the entry (a refusal words it from the catalog:
    `entry.ineligible`)."""
    if district in eligible:
        return True, f"Sitz in {name(district)}: teilnahmeberechtigt."
    return False, (
        f"Der Unternehmenssitz ({name(district)}) liegt nicht im Teilnahmegebiet "
        f"({area(eligible)})."
    )
