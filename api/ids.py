"""Ids the API makes up for things that are not rows of their own.

A stock keeping unit is one way to buy a DID group (a number block): its channel count.
Its id is ``"<block id>-<channels>"``; ``sku_parse`` reads one back, or None when the text
is not one (the caller answers 404 / 422 as the resource needs).
"""

import re
import unicodedata
import uuid

SKU = re.compile(r"^(\d{1,18})-(\d{1,4})$")


def sku_id(block_id: int, channels: int) -> str:
    return f"{block_id}-{channels}"


def sku_parse(text) -> tuple[int, int] | None:
    match = SKU.match(str(text or "").strip())
    if match is None:
        return None
    return int(match[1]), int(match[2])


# --- Places -----------------------------------------------------------------------------------
# DIDWW's regions and cities are rows of their own; ours are the ``region`` and ``city`` texts
# of the number blocks. Their ids are name-based UUIDs (version 5) of the country code and the
# folded names, so the same place has the same id on every request, on every server and after
# a restart, with no table to keep: a block typed "Zürich" or "zurich " is the same city. A
# country's id is its ISO 3166-1 alpha-2 code ("DE"); a DID group type's, our number type
# ("local", "toll_free").

PLACES = uuid.UUID("5b0c1f5e-8a4e-4f36-9d1b-3c6f0d7a2e41")  # this API's namespace; never change


def place_key(text) -> str:
    """A place name as ids compare it: case, accents and surrounding spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", str(text or "").casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(folded.split())


def region_id(country, region) -> str:
    return str(uuid.uuid5(PLACES, f"region/{str(country).upper()}/{place_key(region)}"))


def city_id(country, region, city) -> str:
    """A city is named within its region (two Springfields are two cities)."""
    key = f"city/{str(country).upper()}/{place_key(region)}/{place_key(city)}"
    return str(uuid.uuid5(PLACES, key))
