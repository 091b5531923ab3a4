"""The modem's wire codecs, pure functions over bytes and text.

AT command lines and responses (``at``, ``atparse``), SMS PDUs in both
directions (``pdu``, ``pdufields``, ``pdunet``), the GSM 03.38 alphabet
(``gsm7``) and multipart concatenation (``concat``). They import no serial
port, no PJSUA2, no GPIO and no store (the ``pure-cores`` import contract),
so the driver, the services and the simulator share them.
"""
