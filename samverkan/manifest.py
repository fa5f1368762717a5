"""The Teams app package: fill in ids and URLs from settings, validate, zip."""

from __future__ import annotations

import copy
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from samverkan import texts
from samverkan.settings import Settings

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifest"
SCHEMA = MANIFEST_DIR / "schema" / "teams-manifest-v1.22.schema.json"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ManifestError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def fill(manifest: dict[str, Any], settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """Apply the bot's identity and public URL; return the manifest and warnings."""
    m = copy.deepcopy(manifest)
    warnings: list[str] = []
    app_id = settings.microsoft_app_id.strip()
    if app_id:
        if not GUID.match(app_id):
            raise ManifestError([texts().text("manifest.not_guid", app_id=app_id)])
        m["id"] = app_id
        for bot in m.get("bots", []):
            bot["botId"] = app_id
    else:
        warnings.append(texts().text("manifest.no_app_id"))
    public = settings.public_url.rstrip("/")
    if public:
        if not public.startswith("https://"):
            raise ManifestError([texts().text("manifest.public_url_https")])
        m["developer"]["websiteUrl"] = public
        m["developer"]["privacyUrl"] = f"{public}/integritet"
        m["developer"]["termsOfUseUrl"] = f"{public}/villkor"
        host = public.split("://", 1)[1].split("/", 1)[0]
        if host not in m.get("validDomains", []):
            m.setdefault("validDomains", []).append(host)
    else:
        warnings.append(texts().text("manifest.no_public_url"))
    return m, warnings


def validate_manifest(manifest: dict[str, Any]) -> list[str]:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    root = texts().text("manifest.root")
    return [
        f"manifest.json {'/'.join(str(p) for p in e.absolute_path) or root}: {e.message}"
        for e in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]


def png_info(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA/RGB PNG (enough for our icons)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ManifestError([texts().text("manifest.not_png")])
    pos, idat = 8, b""
    width = height = color_type = 0
    while pos < len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", chunk[:10])
            if depth != 8 or color_type not in (2, 6) or chunk[12] != 0:
                raise ManifestError([texts().text("manifest.png_kind")])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    channels = 4 if color_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * channels
    pixels: list[tuple[int, int, int, int]] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        for x in range(width):
            px = line[x * channels : x * channels + channels]
            pixels.append((px[0], px[1], px[2], px[3] if channels == 4 else 255))
        prev = line
    return width, height, pixels


def check_icons(color: bytes, outline: bytes) -> list[str]:
    problems: list[str] = []
    w, h, _ = png_info(color)
    if (w, h) != (192, 192):
        problems.append(texts().text("manifest.color_size", width=w, height=h))
    w, h, pixels = png_info(outline)
    if (w, h) != (32, 32):
        problems.append(texts().text("manifest.outline_size", width=w, height=h))
    if any(a > 0 and (r, g, b) != (255, 255, 255) for r, g, b, a in pixels):
        problems.append(texts().text("manifest.outline_colors"))
    if not any(a == 0 for *_, a in pixels):
        problems.append(texts().text("manifest.outline_background"))
    return problems


def build_package(
    settings: Settings, out_dir: Path, *, source: Path = MANIFEST_DIR
) -> tuple[Path, list[str]]:
    """Write dist/<name>-<version>.zip; return its path and warnings. Raise ManifestError."""
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    manifest, warnings = fill(manifest, settings)
    problems = validate_manifest(manifest)
    icons = manifest.get("icons", {})
    files: dict[str, bytes] = {}
    for key in ("color", "outline"):
        name = icons.get(key)
        path = source / name if name else None
        if path is None or not path.is_file():
            problems.append(texts().text("manifest.no_icon", key=key, name=name))
        else:
            files[name] = path.read_bytes()
    if not problems:
        problems += check_icons(files[icons["color"]], files[icons["outline"]])
    if problems:
        raise ManifestError(problems)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"samverkansboten-{manifest['version']}.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for name, data in files.items():
            zf.writestr(name, data)
    target.write_bytes(buf.getvalue())
    return target, warnings
