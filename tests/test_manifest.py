from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from cli.main import main
from samverkan.manifest import (
    MANIFEST_DIR,
    ManifestError,
    build_package,
    check_icons,
    validate_manifest,
)
from samverkan.settings import Settings

APP_ID = "11111111-2222-3333-4444-555555555555"


def test_source_manifest_is_valid_against_official_schema() -> None:
    manifest = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert validate_manifest(manifest) == []
    assert manifest["manifestVersion"] == "1.22"


def test_schema_catches_a_broken_manifest() -> None:
    manifest = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    manifest["name"]["short"] = "x" * 40
    del manifest["developer"]
    problems = validate_manifest(manifest)
    assert any("developer" in p for p in problems)
    assert any("name/short" in p for p in problems)


def test_icon_pixels() -> None:
    color = Image.open(MANIFEST_DIR / "color.png")
    outline = Image.open(MANIFEST_DIR / "outline.png").convert("RGBA")
    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    pixels = [outline.getpixel((x, y)) for y in range(32) for x in range(32)]
    assert all((r, g, b) == (255, 255, 255) for r, g, b, a in pixels if a > 0)
    assert any(a == 0 for *_, a in pixels) and any(a == 255 for *_, a in pixels)
    assert (
        check_icons(
            (MANIFEST_DIR / "color.png").read_bytes(), (MANIFEST_DIR / "outline.png").read_bytes()
        )
        == []
    )


def test_outline_icon_with_colour_is_refused(tmp_path: Path) -> None:
    img = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    img.putpixel((3, 3), (200, 0, 0, 255))
    img.save(tmp_path / "o.png")
    problems = check_icons(
        (MANIFEST_DIR / "color.png").read_bytes(), (tmp_path / "o.png").read_bytes()
    )
    assert any("vitt" in p for p in problems)


def test_build_fills_ids_and_zips_exactly_the_needed_files(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="x",
        SAMVERKAN_PUBLIC_URL="https://bot.kommun.se",
    )  # type: ignore[call-arg]
    path, warnings = build_package(settings, tmp_path)
    assert warnings == []
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["privacyUrl"] == "https://bot.kommun.se/integritet"
    assert validate_manifest(manifest) == []


def test_build_refuses_non_guid_app_id(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, MicrosoftAppId="not-a-guid", MicrosoftAppPassword="x")  # type: ignore[call-arg]
    with pytest.raises(ManifestError):
        build_package(settings, tmp_path)


def test_cli_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["manifest", "build", "--out", "dist"]) == 0
    assert list((tmp_path / "dist").glob("samverkansboten-*.zip"))
    assert "MicrosoftAppId saknas" in capsys.readouterr().err
