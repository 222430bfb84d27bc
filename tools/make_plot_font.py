#!/usr/bin/python3
"""make_plot_font.py: the bitmap font of the PNG plots (src/plot_font.h).

Renders the printable ASCII characters 32..126 of DejaVu Sans Mono (Bitstream Vera
licence: free to embed and modify) at 11 px into 7 x 13 cells with PIL, thresholds
them, and writes one uint8 per glyph row (bit 6 = leftmost pixel).
    tools/make_plot_font.py > src/plot_font.h
"""
from PIL import Image, ImageDraw, ImageFont

W, H = 7, 13
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 11)
print("/* plot_font.h: 7 x 13 bitmap glyphs of ASCII 32..126 rendered from DejaVu Sans Mono\n"
      " * (Bitstream Vera licence) by tools/make_plot_font.py; row r of glyph c is\n"
      " * plot_font[c - 32][r], bit 6 the leftmost pixel. Generated: do not edit. */")
print("#define PLOT_FONT_W %d\n#define PLOT_FONT_H %d" % (W, H))
print("static const unsigned char plot_font[95][%d] = {" % H)
for c in range(32, 127):
    im = Image.new("L", (W, H), 0)
    ImageDraw.Draw(im).text((0, -1), chr(c), fill=255, font=font)
    rows = []
    for y in range(H):
        v = 0
        for x in range(W):
            if im.getpixel((x, y)) >= 110:
                v |= 1 << (W - 1 - x)
        rows.append(v)
    print("    {%s}, /* %r */" % (", ".join("0x%02x" % v for v in rows), chr(c)))
print("};")
