"""Patient names across scripts: display order and search folding.

Korean and Chinese names are written family name first with no space
(김민준, 王小明); Latin-script names given name first. Search folds case
and accents and the letters that Unicode does not decompose (Polish ł,
Turkish ı), so 'lukasz' finds 'Łukasz' and 'yilmaz' finds 'YILMAZ'/'Yılmaz'.

Example:
    >>> fold("Łukasz Wiśniewski")
    'lukasz wisniewski'
    >>> display_name("김", "민준")
    '김민준'
"""

from __future__ import annotations

import re
import unicodedata

_EXTRA = str.maketrans({"ł": "l", "ı": "i", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "æ": "ae", "œ": "oe", "ß": "ss"})


#: Hangul, kana and CJK ideographs: names written family name first, no space.
_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"
)


def _is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def display_name(family: str, given: str) -> str:
    family, given = family.strip(), given.strip()
    if not family or not given:
        return family or given
    if _is_cjk(family + given):
        return family + given
    return f"{given} {family}"


def fold(text: str) -> str:
    """Lowercase, strip accents, map ł/ı etc., collapse spaces."""
    lowered = text.casefold().translate(_EXTRA)
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", stripped).split())
