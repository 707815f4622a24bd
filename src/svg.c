/* svg.c — bar and line charts as inline SVG (see svg.h). Sizes are in CSS
 * pixels; text widths are estimated (no font metrics: there is no font
 * file to measure), generously, so labels do not collide. */
#include "clickseg/svg.h"

#include <math.h>
#include <string.h>

#include "clickseg/numfmt.h"

#define FONT "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
#define AXIS_COLOR "#555"
#define GRID_COLOR "#e3e3e3"
#define TEXT_COLOR "#222"
#define CHAR_W 7.0          /* estimated width of a 12 px character */

void xml_puts(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Characters of a UTF-8 string (continuation bytes do not count). */
static size_t text_chars(const char *s)
{
    size_t k = 0;
    for (; s && *s; s++)
        k += ((unsigned char)*s & 0xC0) != 0x80;
    return k;
}

double svg_nice_step(double range, int target)
{
    if (!(range > 0) || target < 1)
        return 1;
    double raw = range / target, mag = pow(10, floor(log10(raw)));
    static const double mult[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof mult / sizeof mult[0]; i++)
        if (mult[i] * mag >= raw)
            return mult[i] * mag;
    return 10 * mag;
}

static void tick_text(char *buf, size_t n, double v, svg_fmt_fn fn, const void *ctx)
{
    if (fn)
        fn(buf, n, v, ctx);
    else
        fmt_si(buf, n, v);
}

static void svg_open(FILE *f, const char *id, const char *title, int w, int h)
{
    fprintf(f, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"");
    xml_puts(f, id);
    fprintf(f, "\" role=\"img\" aria-label=\"");
    xml_puts(f, title);
    fprintf(f, "\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\" "
            "font-size=\"12\" fill=\"" TEXT_COLOR "\">\n<title>", w, h, w, h, FONT);
    xml_puts(f, title);
    fprintf(f, "</title>\n");
}

/* ---- bar chart ---- */

enum { BAR_ROW = 26, BAR_H = 18, BAR_TOP = 6, BAR_AXIS = 44 };

void svg_bar_chart_write(FILE *f, const svg_bar_chart *c)
{
    int w = c->width > 0 ? c->width : 640, lw = c->label_width > 0 ? c->label_width : 170;
    double vmax = c->vmax, longest = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->vmax <= 0 && c->bars[i].value > vmax)
            vmax = c->bars[i].value;
        double tw = (double)text_chars(c->bars[i].text) * CHAR_W;
        if (tw > longest)
            longest = tw;
    }
    double step = svg_nice_step(vmax > 0 ? vmax : 1, 4);
    if (c->vmax <= 0)
        vmax = step * ceil((vmax > 0 ? vmax : 1) / step - 1e-9);
    double x0 = lw, pw = w - lw - longest - 14;
    if (pw < 80)
        pw = 80, w = (int)(x0 + pw + longest + 14);
    int h = BAR_TOP + c->n * BAR_ROW + BAR_AXIS;
    double ybase = BAR_TOP + c->n * BAR_ROW;
    svg_open(f, c->id, c->title, w, h);
    /* grid and ticks */
    for (double t = 0; t <= vmax * (1 + 1e-9); t += step) {
        double x = x0 + t / vmax * pw;
        char lab[NUMFMT_MAX];
        tick_text(lab, sizeof lab, t, c->tick_fmt, c->tick_ctx);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" GRID_COLOR
                "\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"" AXIS_COLOR "\">",
                x, BAR_TOP - 2, x, ybase, x, ybase + 16);
        xml_puts(f, lab);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" AXIS_COLOR "\"/>\n",
            x0, ybase, x0 + pw, ybase);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"" AXIS_COLOR "\">",
            x0 + pw / 2, ybase + 36);
    xml_puts(f, c->axis_label);
    fprintf(f, "</text>\n");
    for (int i = 0; i < c->n; i++) {
        const svg_bar *b = &c->bars[i];
        double v = b->value > 0 ? b->value : 0, bw = vmax > 0 ? v / vmax * pw : 0;
        if (bw > pw)
            bw = pw;
        double y = BAR_TOP + i * BAR_ROW + (BAR_ROW - BAR_H) / 2.0;
        fprintf(f, "<g class=\"bar\" data-key=\"");
        xml_puts(f, b->key ? b->key : b->label);
        fprintf(f, "\" data-value=\"%.17g\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" "
                "height=\"%d\" rx=\"2\" fill=\"", b->value, x0, y, bw, BAR_H);
        xml_puts(f, b->color ? b->color : "#0072B2");
        fprintf(f, "\"/><text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                x0 - 8, y + BAR_H - 5);
        xml_puts(f, b->label);
        fprintf(f, "</text><text class=\"value\" x=\"%.1f\" y=\"%.1f\">", x0 + bw + 6,
                y + BAR_H - 5);
        xml_puts(f, b->text);
        fprintf(f, "</text></g>\n");
    }
    fprintf(f, "</svg>\n");
}

/* ---- line chart ---- */

enum { LC_LEFT = 64, LC_RIGHT = 44, LC_TOP = 34, LC_BOTTOM = 46 };

static void line_range(const svg_line_chart *c, double *lo, double *hi, double *step)
{
    double mn = INFINITY, mx = -INFINITY;
    for (int s = 0; s < c->nseries; s++)
        for (uint64_t i = 0; i < c->n; i++) {
            double v = c->series[s].y[i];
            if (isnan(v))
                continue;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }
    if (c->ymax > c->ymin) {
        *lo = c->ymin;
        *hi = c->ymax;
        *step = svg_nice_step(*hi - *lo, 4);
        return;
    }
    if (!(mx > -INFINITY))
        mn = 0, mx = 1;
    double base = mn < 0 ? mn : 0;
    if (mx <= base)
        mx = base + 1;
    *step = svg_nice_step(mx - base, 4);
    *lo = base < 0 ? *step * floor(base / *step) : 0;
    *hi = *step * ceil(mx / *step - 1e-9);
    if (*hi <= *lo)
        *hi = *lo + *step;
}

static void line_axes(FILE *f, const svg_line_chart *c, double x0, double x1, double y0,
                      double y1, double lo, double hi, double step)
{
    for (double t = lo; t <= hi + step * 1e-6; t += step) {
        double y = y0 - (t - lo) / (hi - lo) * (y0 - y1);
        char lab[NUMFMT_MAX];
        tick_text(lab, sizeof lab, t, c->tick_fmt, c->tick_ctx);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" GRID_COLOR
                "\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"" AXIS_COLOR "\">",
                x0, y, x1, y, x0 - 6, y + 4);
        xml_puts(f, lab);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" AXIS_COLOR
            "\"/>\n", x0, y0, x1, y0);
    /* x ticks: a label about every 100 px, at a regular stride */
    size_t widest = 1;
    for (uint64_t i = 0; i < c->n; i += c->n / 16 + 1)
        if (text_chars(c->x_labels[i]) > widest)
            widest = text_chars(c->x_labels[i]);
    uint64_t room = (uint64_t)((x1 - x0) / ((double)widest * CHAR_W + 24)) + 1;
    uint64_t stride = c->n <= room ? 1 : (c->n + room - 1) / room;
    for (uint64_t i = 0; i < c->n; i += stride) {
        double x = c->n == 1 ? (x0 + x1) / 2 : x0 + (double)i * (x1 - x0) / (double)(c->n - 1);
        const char *anchor = "middle";
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" AXIS_COLOR
                "\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"" AXIS_COLOR "\">",
                x, y0, x, y0 + 4, x, y0 + 17, anchor);
        xml_puts(f, c->x_labels[i]);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"" AXIS_COLOR "\">",
            (x0 + x1) / 2, y0 + 38);
    xml_puts(f, c->x_label);
    fprintf(f, "</text>\n<text x=\"%d\" y=\"14\" fill=\"" AXIS_COLOR "\">", 4);
    xml_puts(f, c->y_label);
    fprintf(f, "</text>\n");
}

static void line_legend(FILE *f, const svg_line_chart *c, double x1)
{
    if (c->nseries < 2)
        return;
    double x = x1;
    for (int s = c->nseries - 1; s >= 0; s--) {
        x -= (double)text_chars(c->series[s].name) * CHAR_W + 30;
        fprintf(f, "<g class=\"legend\"><rect x=\"%.1f\" y=\"6\" width=\"14\" height=\"10\" "
                "fill=\"", x);
        xml_puts(f, c->series[s].color);
        fprintf(f, "\"/><text x=\"%.1f\" y=\"15\">", x + 18);
        xml_puts(f, c->series[s].name);
        fprintf(f, "</text></g>\n");
    }
}

void svg_line_chart_write(FILE *f, const svg_line_chart *c)
{
    int w = c->width > 0 ? c->width : 640, h = c->height > 0 ? c->height : 240;
    double x0 = LC_LEFT, x1 = w - LC_RIGHT, y1 = LC_TOP, y0 = h - LC_BOTTOM;
    double lo, hi, step;
    line_range(c, &lo, &hi, &step);
    svg_open(f, c->id, c->title, w, h);
    if (c->n > 0)
        line_axes(f, c, x0, x1, y0, y1, lo, hi, step);
    line_legend(f, c, x1);
    fprintf(f, "<g class=\"plot\" data-x0=\"%.1f\" data-x1=\"%.1f\" data-y0=\"%.1f\" "
            "data-y1=\"%.1f\" data-ymin=\"%.17g\" data-ymax=\"%.17g\">\n", x0, x1, y0, y1, lo, hi);
    for (int s = 0; s < c->nseries; s++) {
        const svg_series *sr = &c->series[s];
        fprintf(f, "<path class=\"line\" data-key=\"");
        xml_puts(f, sr->key ? sr->key : sr->name);
        fprintf(f, "\" fill=\"none\" stroke=\"");
        xml_puts(f, sr->color);
        fprintf(f, "\" stroke-width=\"%.1f\" stroke-opacity=\"%.2f\" stroke-linejoin=\"round\" "
                "data-values=\"", sr->width > 0 ? sr->width : 1.6, sr->opacity > 0 ? sr->opacity : 1.0);
        for (uint64_t i = 0; i < c->n; i++)
            fprintf(f, i ? " %.17g" : "%.17g", sr->y[i]);
        fprintf(f, "\" d=\"");
        int pen = 0;
        for (uint64_t i = 0; i < c->n; i++) {
            double v = sr->y[i];
            if (isnan(v)) {
                pen = 0;
                continue;
            }
            double x = c->n == 1 ? (x0 + x1) / 2 : x0 + (double)i * (x1 - x0) / (double)(c->n - 1);
            double y = y0 - (v - lo) / (hi - lo) * (y0 - y1);
            fprintf(f, "%s%.1f %.1f", pen ? " L" : (i ? " M" : "M"), x, y);
            pen = 1;
        }
        fprintf(f, "\"/>\n");
        /* With few points a marker per point shows where the values are. */
        for (uint64_t i = 0; c->n <= 60 && i < c->n; i++) {
            double v = sr->y[i];
            if (isnan(v))
                continue;
            double x = c->n == 1 ? (x0 + x1) / 2 : x0 + (double)i * (x1 - x0) / (double)(c->n - 1);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"", x,
                    y0 - (v - lo) / (hi - lo) * (y0 - y1));
            xml_puts(f, sr->color);
            fprintf(f, "\"/>\n");
        }
    }
    fprintf(f, "</g>\n</svg>\n");
}
