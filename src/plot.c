/*
 * plot.c: the picture of a joint embedding: two scatter panels of the same 2-D
 * coordinates, the first coloured by source (real / synthetic), the second by label
 * (or, without labels, the synthetic cells drawn over the real ones in grey), each with
 * a legend. Output is PNG or SVG, chosen by the file name's extension.
 *
 * One layout drives two back ends through a tiny drawing interface (rectangle, disc,
 * text): a raster with a minimal PNG encoder (IHDR, one zlib-compressed IDAT of
 * filter-0 RGB rows, IEND; CRC-32 and deflate from zlib) and a 7 x 13 bitmap font
 * (plot_font.h), or SVG elements. Points are drawn in a fixed pseudo-random order so
 * that neither population hides the other; the order depends only on n.
 */
#include "sdd_internal.h"
#include "plot_font.h"
#include <math.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#define PANEL 560       /* plot area side, pixels */
#define MARGIN 40
#define LEGEND 190
#define TITLE 30
#define FIG_W (2 * (MARGIN + PANEL + LEGEND))
#define FIG_H (TITLE + PANEL + 2 * MARGIN)
#define MAX_LEGEND 24

typedef struct { unsigned char r, g, b; } rgb_t;

/* tab10 then the lighter tab20 shades: matplotlib / scanpy's categorical palette. */
static const rgb_t palette[] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189}, {140, 86, 75},
    {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}, {174, 199, 232}, {255, 187, 120},
    {152, 223, 138}, {255, 152, 150}, {197, 176, 213}, {196, 156, 148}, {247, 182, 210}, {199, 199, 199},
    {219, 219, 141}, {158, 218, 229}};
#define N_PALETTE ((int)(sizeof palette / sizeof palette[0]))
static const rgb_t grey = {200, 200, 200}, black = {0, 0, 0}, white = {255, 255, 255};

typedef struct canvas {
    void (*rect)(struct canvas *c, int x, int y, int w, int h, rgb_t col);
    void (*disc)(struct canvas *c, double x, double y, double r, rgb_t col);
    void (*text)(struct canvas *c, int x, int y, const char *s); /* y = top of the line */
    unsigned char *px;  /* raster: FIG_W x FIG_H RGB */
    FILE *f;            /* SVG */
} canvas_t;

/* ---------------------------------------------------------------- raster */

static void px_rect(canvas_t *c, int x, int y, int w, int h, rgb_t col)
{
    for (int j = y < 0 ? 0 : y; j < y + h && j < FIG_H; j++)
        for (int i = x < 0 ? 0 : x; i < x + w && i < FIG_W; i++) {
            unsigned char *p = c->px + 3 * ((size_t)j * FIG_W + i);
            p[0] = col.r, p[1] = col.g, p[2] = col.b;
        }
}

static void px_disc(canvas_t *c, double x, double y, double r, rgb_t col)
{
    for (int j = (int)floor(y - r); j <= (int)ceil(y + r); j++)
        for (int i = (int)floor(x - r); i <= (int)ceil(x + r); i++)
            if ((i + 0.5 - x) * (i + 0.5 - x) + (j + 0.5 - y) * (j + 0.5 - y) <= r * r) px_rect(c, i, j, 1, 1, col);
}

static void px_text(canvas_t *c, int x, int y, const char *s)
{
    for (; *s; s++, x += PLOT_FONT_W) {
        unsigned ch = (unsigned char)*s;
        const unsigned char *g = plot_font[(ch < 32 || ch > 126 ? '?' : ch) - 32];
        for (int r = 0; r < PLOT_FONT_H; r++)
            for (int b = 0; b < PLOT_FONT_W; b++)
                if (g[r] >> (PLOT_FONT_W - 1 - b) & 1) px_rect(c, x + b, y + r, 1, 1, black);
    }
}

static int png_chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len)
{
    unsigned char hdr[8] = {len >> 24, len >> 16 & 255, len >> 8 & 255, len & 255, type[0], type[1], type[2], type[3]};
    uLong crc = crc32(crc32(0, NULL, 0), hdr + 4, 4);
    unsigned char tail[4];
    if (len > 0) crc = crc32(crc, data, len); /* crc32(c, NULL, 0) would restart at 0 */
    tail[0] = crc >> 24 & 255, tail[1] = crc >> 16 & 255, tail[2] = crc >> 8 & 255, tail[3] = crc & 255;
    return fwrite(hdr, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) && fwrite(tail, 1, 4, f) == 4;
}

static int png_write(FILE *f, const unsigned char *px)
{
    static const unsigned char sig[8] = {137, 'P', 'N', 'G', '\r', '\n', 26, '\n'};
    unsigned char ihdr[13] = {0, 0, FIG_W >> 8, FIG_W & 255, 0, 0, FIG_H >> 8, FIG_H & 255, 8, 2, 0, 0, 0};
    size_t row = 3 * (size_t)FIG_W + 1, raw_n = row * FIG_H;
    uLongf z_n = compressBound((uLong)raw_n);
    unsigned char *raw = sdd_malloc(raw_n), *z = sdd_malloc(z_n);
    int ok = 0;
    if (!raw || !z) goto done;
    for (int y = 0; y < FIG_H; y++) {
        raw[y * row] = 0; /* filter type None */
        memcpy(raw + y * row + 1, px + 3 * (size_t)y * FIG_W, row - 1);
    }
    if (compress2(z, &z_n, raw, (uLong)raw_n, 6) != Z_OK) goto done;
    ok = fwrite(sig, 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) && png_chunk(f, "IDAT", z, (uint32_t)z_n) &&
         png_chunk(f, "IEND", NULL, 0);
done:
    free(raw);
    free(z);
    return ok;
}

/* ------------------------------------------------------------------- SVG */

static void svg_rect(canvas_t *c, int x, int y, int w, int h, rgb_t col)
{
    fprintf(c->f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%02x%02x%02x\"/>\n", x, y, w, h,
            col.r, col.g, col.b);
}

static void svg_disc(canvas_t *c, double x, double y, double r, rgb_t col)
{
    fprintf(c->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#%02x%02x%02x\"/>\n", x, y, r, col.r, col.g, col.b);
}

static void svg_text(canvas_t *c, int x, int y, const char *s)
{
    fprintf(c->f, "<text x=\"%d\" y=\"%d\">", x, y + 10);
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", c->f); break;
        case '>': fputs("&gt;", c->f); break;
        case '&': fputs("&amp;", c->f); break;
        case '"': fputs("&quot;", c->f); break;
        default: if ((unsigned char)*s >= 32) fputc(*s, c->f);
        }
    }
    fputs("</text>\n", c->f);
}

/* ---------------------------------------------------------------- layout */

#define GREY_CODE (-1)

typedef struct {
    const float *xy;
    int64_t n;
    const int64_t *order; /* drawing order */
    double lo[2], hi[2];  /* data range, padded */
    double r;             /* point radius, pixels */
} scatter_t;

static rgb_t colour(int code) { return code < 0 ? grey : palette[code % N_PALETTE]; }

/* One panel at x0: frame, points (grey ones first), title, axis names, legend. */
static void panel(canvas_t *c, int x0, const scatter_t *s, const int *code, const char *title, const char *axis,
                  char *const *names, const int *name_code, int n_names)
{
    int y0 = TITLE + MARGIN / 2;
    char buf[64];
    c->rect(c, x0 - 1, y0 - 1, PANEL + 2, PANEL + 2, black);
    c->rect(c, x0, y0, PANEL, PANEL, white);
    for (int pass = 0; pass < 2; pass++)
        for (int64_t t = 0; t < s->n; t++) {
            int64_t i = s->order[t];
            double px, py;
            if ((code[i] == GREY_CODE) != (pass == 0)) continue;
            px = x0 + (s->xy[2 * i] - s->lo[0]) / (s->hi[0] - s->lo[0]) * PANEL;
            py = y0 + PANEL - (s->xy[2 * i + 1] - s->lo[1]) / (s->hi[1] - s->lo[1]) * PANEL;
            c->disc(c, px, py, s->r, colour(code[i]));
        }
    c->text(c, x0, TITLE / 2 - 4, title);
    snprintf(buf, sizeof buf, "%s1", axis);
    c->text(c, x0 + PANEL / 2 - 14, y0 + PANEL + 6, buf);
    snprintf(buf, sizeof buf, "%s2", axis);
    c->text(c, x0 - MARGIN + 2, y0 - PLOT_FONT_H - 2, buf);
    for (int k = 0; k < n_names && k <= MAX_LEGEND; k++) {
        int ly = y0 + 10 + 20 * k;
        if (k == MAX_LEGEND) {
            snprintf(buf, sizeof buf, "... %d more", n_names - MAX_LEGEND);
            c->text(c, x0 + PANEL + 16, ly, buf);
            break;
        }
        c->rect(c, x0 + PANEL + 16, ly + 2, 10, 10, colour(name_code[k]));
        snprintf(buf, sizeof buf, "%.22s", names[k]);
        c->text(c, x0 + PANEL + 32, ly, buf);
    }
}

static void draw(canvas_t *c, const scatter_t *s, const int32_t *source, const int32_t *labels,
                 char *const *label_names, int n_labels, const char *axis, int *code, int *name_code)
{
    static char *src_names[] = {"real", "synthetic"};
    int src_code[2] = {0, 1}, grey_code[2] = {GREY_CODE, 1};
    c->rect(c, 0, 0, FIG_W, FIG_H, white);
    for (int64_t i = 0; i < s->n; i++) code[i] = source[i] ? 1 : 0;
    panel(c, MARGIN, s, code, "coloured by source", axis, src_names, src_code, 2);
    if (labels) {
        for (int64_t i = 0; i < s->n; i++) code[i] = labels[i] >= 0 ? labels[i] : GREY_CODE;
        for (int k = 0; k < n_labels; k++) name_code[k] = k;
        panel(c, 2 * MARGIN + PANEL + LEGEND, s, code, "coloured by label", axis, label_names, name_code, n_labels);
    } else {
        for (int64_t i = 0; i < s->n; i++) code[i] = source[i] ? 1 : GREY_CODE;
        panel(c, 2 * MARGIN + PANEL + LEGEND, s, code, "synthetic over real", axis, src_names, grey_code, 2);
    }
}

/* Range of the points with 4% padding, the drawing order and the point size. */
static int setup(scatter_t *s, const float *xy, int64_t n)
{
    int64_t *o = sdd_malloc((size_t)n * sizeof *o + 1);
    sdd_rng_t rng;
    if (!o) return SDD_ENOMEM;
    s->xy = xy, s->n = n, s->order = o;
    for (int d = 0; d < 2; d++) {
        double lo = INFINITY, hi = -INFINITY, pad;
        for (int64_t i = 0; i < n; i++)
            if (isfinite(xy[2 * i + d])) lo = fmin(lo, xy[2 * i + d]), hi = fmax(hi, xy[2 * i + d]);
        if (!(hi > lo)) lo = (isfinite(lo) ? lo : 0) - 1, hi = lo + 2;
        pad = 0.04 * (hi - lo);
        s->lo[d] = lo - pad, s->hi[d] = hi + pad;
    }
    for (int64_t i = 0; i < n; i++) o[i] = i;
    sdd_rng_seed(&rng, 0x706c6f74); /* fixed: the picture depends on the data only */
    sdd_rng_shuffle(&rng, o, n);
    s->r = n <= 2000 ? 3.0 : n <= 10000 ? 2.0 : n <= 50000 ? 1.4 : 1.0;
    return SDD_OK;
}

/* Draw the figure on f as SVG or PNG. */
static int render(FILE *f, int svg, const float *xy, int64_t n, const int32_t *source, const int32_t *labels,
                  char *const *label_names, int n_labels, const char *axis)
{
    canvas_t c = {0};
    scatter_t s = {0};
    int *code = sdd_malloc((size_t)n * sizeof *code + 1);
    int *name_code = sdd_malloc((size_t)(n_labels + 1) * sizeof *name_code);
    int ok = 0, rc = SDD_ENOMEM;
    if (!code || !name_code || setup(&s, xy, n) < 0) goto done;
    c.f = f;
    if (svg) {
        c.rect = svg_rect, c.disc = svg_disc, c.text = svg_text;
        fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "font-family=\"DejaVu Sans Mono, monospace\" font-size=\"12\">\n", FIG_W, FIG_H);
        draw(&c, &s, source, labels, label_names, n_labels, axis, code, name_code);
        ok = fputs("</svg>\n", f) >= 0;
    } else {
        c.rect = px_rect, c.disc = px_disc, c.text = px_text;
        if (!(c.px = sdd_malloc(3 * (size_t)FIG_W * FIG_H))) goto done;
        draw(&c, &s, source, labels, label_names, n_labels, axis, code, name_code);
        ok = png_write(f, c.px);
    }
    rc = ok && !ferror(f) ? SDD_OK : SDD_EIO;
done:
    free(c.px);
    free(code);
    free(name_code);
    free((void *)s.order);
    return rc;
}

int sdd_plot_render(int svg, const float *xy, int64_t n, const int32_t *source, const int32_t *labels,
                    char *const *label_names, int n_labels, const char *axis, char **out, size_t *len)
{
    FILE *f;
    int rc;
    *out = NULL, *len = 0;
    if (!(f = open_memstream(out, len))) return sdd_error(SDD_ENOMEM, "out of memory drawing the plot");
    rc = render(f, svg, xy, n, source, labels, label_names, n_labels, axis);
    if (fclose(f) != 0 && rc == SDD_OK) rc = SDD_ENOMEM;
    if (rc < 0) {
        free(*out);
        *out = NULL, *len = 0;
        return sdd_error(rc == SDD_EIO ? SDD_ENOMEM : rc, "out of memory drawing the plot");
    }
    return SDD_OK;
}

int sdd_plot_write(const char *path, const float *xy, int64_t n, const int32_t *source,
                   const int32_t *labels, char *const *label_names, int n_labels, const char *axis)
{
    size_t len = strlen(path);
    int svg = len >= 4 && strcasecmp(path + len - 4, ".svg") == 0, ok, rc = SDD_ENOMEM;
    int png = len >= 4 && strcasecmp(path + len - 4, ".png") == 0;
    FILE *f = NULL;
    char *tmp = NULL;

    if (!svg && !png) return sdd_error(SDD_EINVAL, "%s: the plot file must end in .png or .svg", path);
    if (!(tmp = sdd_tmp_path(path))) return SDD_ENOMEM;
    sdd_tmp_track(tmp);
    if (!(f = fopen(tmp, "wb"))) {
        rc = sdd_error(SDD_EIO, "%s: cannot create the plot file", path);
        goto done;
    }
    rc = render(f, svg, xy, n, source, labels, label_names, n_labels, axis);
    ok = fclose(f) == 0 && rc == SDD_OK;
    if (rc == SDD_ENOMEM) goto done;
    if (ok && sdd_tmp_commit(tmp, path) == 0) rc = SDD_OK;
    else rc = sdd_error(SDD_EIO, "%s: cannot write the plot", path);
done:
    if (rc < 0) remove(tmp);
    sdd_tmp_untrack(tmp);
    free(tmp);
    return rc;
}
