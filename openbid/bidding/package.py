"""The bid package: what a bidder seals (投标文件), before encryption.

A package is a ZIP archive (stored, not compressed — sealed data does not compress anyway — with
fixed timestamps so the same input gives the same bytes) holding the bid files and
``manifest.json``:

    {"format": "openbid-bid-package/1",
     "nonce": "<32 random bytes, hex>",      # makes the commitment hash unguessable
     "form": {"price": "12345678.00", "duration_days": 360, ...},   # 投标函 values read at opening
     "files": [{"name": "技术标.pdf", "size": 1234, "sha256": "<hex>"}, ...],
     "authoring": {"tool": "openbid-bidder 0.1.0", "machine": "<hash of machine identifiers>"}}

The commitment the bidder signs is the suite's hash of the whole package bytes. Prices are decimal
strings in yuan (two places); the form may carry other declared items, read out as given.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

FORMAT = "openbid-bid-package/1"
MANIFEST = "manifest.json"
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
MAX_FILES = 1000


class PackageError(ValueError):
    """A package that is not a well-formed openbid bid package."""


@dataclass(frozen=True)
class Package:
    manifest: dict[str, Any]
    files: dict[str, bytes]

    @property
    def form(self) -> dict[str, Any]:
        return dict(self.manifest.get("form", {}))

    @property
    def price(self) -> Decimal:
        return Decimal(str(self.manifest["form"]["price"]))


def _check_form(form: dict[str, Any]) -> dict[str, Any]:
    if "price" not in form:
        raise PackageError("the bid form must declare a price")
    try:
        price = Decimal(str(form["price"]))
    except InvalidOperation as exc:
        raise PackageError("the price must be a decimal number of yuan") from exc
    if price <= 0 or price != price.quantize(Decimal("0.01")):
        raise PackageError("the price must be positive, in yuan with at most two decimals")
    return {**form, "price": f"{price:.2f}"}


def build(files: dict[str, bytes], form: dict[str, Any], *, tool: str, machine: str) -> bytes:
    """The package bytes for ``files`` and the bid form values ``form``."""
    if not files or len(files) > MAX_FILES:
        raise PackageError(f"a package holds 1 to {MAX_FILES} files")
    if MANIFEST in files:
        raise PackageError(f"{MANIFEST} is reserved")
    manifest = {
        "format": FORMAT,
        "nonce": secrets.token_hex(32),
        "form": _check_form(form),
        "files": [
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        ],
        "authoring": {"tool": tool, "machine": machine},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in [
            (MANIFEST, json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()),
            *sorted(files.items()),
        ]:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.flag_bits |= 0x800  # UTF-8 file names
            archive.writestr(info, data)
    return out.getvalue()


def read(data: bytes) -> Package:
    """Parse and check a package: the manifest, and every file against its listed size and hash."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise PackageError("not a ZIP archive") from exc
    with archive:
        names = archive.namelist()
        if len(names) != len(set(names)) or MANIFEST not in names or len(names) > MAX_FILES + 1:
            raise PackageError("the archive's file list is not a bid package")
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            raise PackageError("the manifest is not JSON") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise PackageError(f"the manifest is not {FORMAT}")
        listed = {f["name"]: f for f in manifest.get("files", [])}
        if set(listed) != set(names) - {MANIFEST}:
            raise PackageError("the manifest does not list exactly the files in the archive")
        files = {}
        for name, entry in listed.items():
            try:
                content = archive.read(name)
            except (zipfile.BadZipFile, OSError) as exc:
                raise PackageError(f"{name} is damaged") from exc
            if (
                len(content) != entry["size"]
                or hashlib.sha256(content).hexdigest() != entry["sha256"]
            ):
                raise PackageError(f"{name} does not match its manifest entry")
            files[name] = content
    _check_form(manifest.get("form", {}))
    return Package(manifest=manifest, files=files)
