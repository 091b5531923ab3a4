"""Fictional demo patients: names in the six languages' scripts.

Every name here is a common given name paired with a common family name;
none belongs to a real patient. Phone numbers are in the fictional
555-01xx range (US) or are random and unassigned.
"""

from __future__ import annotations

# (family name, given name, language)
NAMES: list[tuple[str, str, str]] = [
    ("Smith", "James", "en"),
    ("Johnson", "Mary", "en"),
    ("Williams", "Robert", "en"),
    ("Brown", "Patricia", "en"),
    ("Miller", "Jennifer", "en"),
    ("Davis", "Michael", "en"),
    ("García", "José", "es"),
    ("Rodríguez", "María", "es"),
    ("Martínez", "Lucía", "es"),
    ("López", "Alejandro", "es"),
    ("Sánchez", "Sofía", "es"),
    ("Fernández", "Javier", "es"),
    ("Nowak", "Zofia", "pl"),
    ("Kowalski", "Łukasz", "pl"),
    ("Wiśniewska", "Małgorzata", "pl"),
    ("Wójcik", "Krzysztof", "pl"),
    ("Lewandowska", "Agnieszka", "pl"),
    ("Zieliński", "Paweł", "pl"),
    ("Yılmaz", "Ayşe", "tr"),
    ("Kaya", "Mehmet", "tr"),
    ("Demir", "Fatma", "tr"),
    ("Şahin", "Mustafa", "tr"),
    ("Çelik", "Emine", "tr"),
    ("Öztürk", "Zeynep", "tr"),
    ("김", "민준", "ko"),
    ("이", "서연", "ko"),
    ("박", "지훈", "ko"),
    ("최", "수아", "ko"),
    ("정", "도윤", "ko"),
    ("강", "하은", "ko"),
    ("王", "小明", "zh"),
    ("李", "娜", "zh"),
    ("张", "伟", "zh"),
    ("刘", "芳", "zh"),
    ("陈", "静", "zh"),
    ("杨", "洋", "zh"),
]

PROVIDERS = ["Dr. Adams", "Dr. Kowalczyk", "Dr. Park", "Dr. Ortiz"]
LOCATIONS = ["Room 1", "Room 2", "Room 3"]
