"""Ids the API makes up for things that are not rows of their own.

A stock keeping unit is one way to buy a DID group (a number block): its channel count.
Its id is ``"<block id>-<channels>"``; ``sku_parse`` reads one back, or None when the text
is not one (the caller answers 404 / 422 as the resource needs).
"""

import re

SKU = re.compile(r"^(\d{1,18})-(\d{1,4})$")


def sku_id(block_id: int, channels: int) -> str:
    return f"{block_id}-{channels}"


def sku_parse(text) -> tuple[int, int] | None:
    match = SKU.match(str(text or "").strip())
    if match is None:
        return None
    return int(match[1]), int(match[2])
