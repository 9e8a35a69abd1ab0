"""Draws netgui's application icon (a globe on a blue tile) at the hicolor sizes.

Run once by hand when the design changes; the PNGs are committed under netgui/assets/:
    .venv/bin/python packaging/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZES = (16, 32, 48, 64, 128, 256)
MASTER = 1024
OUT = Path(__file__).resolve().parent.parent / "netgui" / "assets"


def draw_master() -> Image.Image:
    """The icon at 1024 px, drawn with thick strokes so it survives downscaling."""
    s = MASTER
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    # the tile: a vertical blue gradient inside a rounded square
    grad = Image.new("RGBA", (s, s))
    top, bottom = (52, 132, 228), (22, 72, 160)
    gd = ImageDraw.Draw(grad)
    for y in range(s):
        t = y / (s - 1)
        gd.line([(0, y), (s, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)) + (255,))
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle([40, 40, s - 40, s - 40], radius=200, fill=255)
    img.paste(grad, (0, 0), mask)

    d = ImageDraw.Draw(img)
    white = (255, 255, 255, 255)
    cx, cy, r, w = s // 2, s // 2 - 10, 330, 44
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=white, width=w)
    # meridians
    for rx in (150,):
        d.ellipse([cx - rx, cy - r, cx + rx, cy + r], outline=white, width=w - 8)
    d.line([(cx, cy - r), (cx, cy + r)], fill=white, width=w - 8)
    # parallels: the equator and two chords clipped to the circle
    d.line([(cx - r, cy), (cx + r, cy)], fill=white, width=w - 8)
    for dy in (-170, 170):
        half = int((r * r - dy * dy) ** 0.5)
        d.line([(cx - half + 10, cy + dy), (cx + half - 10, cy + dy)], fill=white, width=w - 12)
    # a connection dot with a link to the globe, bottom right: "a client talking to the net"
    dot = (cx + 300, cy + 300)
    d.line([(cx + 200, cy + 200), dot], fill=(255, 196, 61, 255), width=52)
    d.ellipse([dot[0] - 80, dot[1] - 80, dot[0] + 80, dot[1] + 80], fill=(255, 196, 61, 255),
              outline=white, width=24)
    return img


def main() -> None:
    master = draw_master()
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        path = OUT / f"netgui-icon-{size}.png"
        master.resize((size, size), Image.LANCZOS).save(path, optimize=True)
        print(path)


if __name__ == "__main__":
    main()
