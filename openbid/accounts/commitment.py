"""The integrity commitment (诚信承诺书) a market entity signs to register (诚信承诺制, "秒入库").

The Chinese text is the binding one; its SHA-256 is stored with the organisation and in the event
record, so what was signed can be proven later. A new version gets a new key; old versions stay.
"""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext_lazy as _

CURRENT_VERSION = "2026-1"

TEXTS: dict[str, str] = {
    "2026-1": (
        "本单位郑重承诺：所提交的登记信息真实、准确、完整、有效；"
        "在招标投标活动中遵守《中华人民共和国招标投标法》及其实施条例等法律法规，"
        "不弄虚作假、不串通投标、不以他人名义投标、不以行贿手段谋取中标；"
        "登记信息发生变化时及时更新；如有违反，愿意承担相应法律责任，"
        "并接受信用惩戒及登记状态的暂停。"
    ),
}

SUMMARY = _(
    "We declare that the registration data is true, accurate, complete and valid; that we will "
    "obey the Tendering and Bidding Law and its Regulation, will not falsify documents, collude, "
    "bid in another's name or bribe; that we will keep the data up to date; and that we accept "
    "legal liability, credit penalties and suspension if we break this commitment."
)


def text(version: str = CURRENT_VERSION) -> str:
    return TEXTS[version]


def digest(version: str = CURRENT_VERSION) -> str:
    return hashlib.sha256(f"{version}\n{TEXTS[version]}".encode()).hexdigest()
