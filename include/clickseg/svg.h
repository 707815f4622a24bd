/* svg.h — charts as inline SVG written by clickseg itself: horizontal bar
 * charts and line charts over an index axis (the report's periods), with
 * axes, tick labels, units and legends. No scripts, no fonts, no network:
 * the page that holds them stays one self-contained file.
 *
 * Every chart carries its numbers in data- attributes so that a test or a
 * script can read the figures back from the page: data-chart on the <svg>;
 * data-key and data-value on each bar's <g>; data-key and data-values on
 * each line's <path>; the plot area's pixel box and value range on the line
 * chart's <g class="plot"> (data-x0/x1/y0/y1, data-ymin/ymax).
 * Called by report_html. Pure C, no MPI. */
#ifndef CLICKSEG_SVG_H
#define CLICKSEG_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Formats an axis tick value; ctx is the chart's tick_ctx. */
typedef void (*svg_fmt_fn)(char *buf, size_t n, double v, const void *ctx);

/* Writes s with &, <, >, " and ' escaped (text and attribute values). */
void xml_puts(FILE *f, const char *s);

/* The tick step near range / target_ticks among 1, 2, 2.5, 5 x 10^k. */
double svg_nice_step(double range, int target_ticks);

typedef struct svg_bar {
    const char *key;     /* machine name (data-key), may be NULL */
    const char *label;   /* category label, left of the bar */
    const char *text;    /* value label, right of the bar */
    const char *color;   /* fill, e.g. "#0072B2" */
    double value;        /* bar length, in axis units (data-value) */
} svg_bar;

typedef struct svg_bar_chart {
    const char *id;          /* data-chart */
    const char *title;       /* the chart's accessible title */
    const char *axis_label;  /* under the axis: the quantity and its unit */
    int width;               /* px; 0: 640 */
    int label_width;         /* px for category labels; 0: 170 */
    double vmax;             /* axis end; <= 0: the largest value, rounded up */
    svg_fmt_fn tick_fmt;     /* NULL: compact numbers (fmt_si) */
    const void *tick_ctx;
    int n;
    const svg_bar *bars;
} svg_bar_chart;

void svg_bar_chart_write(FILE *f, const svg_bar_chart *c);

typedef struct svg_series {
    const char *key;     /* data-key */
    const char *name;    /* legend */
    const char *color;
    const double *y;     /* one value per point; NaN leaves a gap */
    double width;        /* stroke width, px; 0: 1.6 */
    double opacity;      /* 0: opaque */
} svg_series;

typedef struct svg_line_chart {
    const char *id;          /* data-chart */
    const char *title;
    const char *y_label;     /* above the y axis: the quantity and its unit */
    const char *x_label;     /* under the x axis */
    int width, height;       /* px; 0: 640 x 240 */
    uint64_t n;              /* points */
    const char *const *x_labels;   /* n labels; a readable subset is shown */
    int nseries;
    const svg_series *series;
    double ymin, ymax;       /* ymax <= ymin: 0 (or the lowest value) to the highest, rounded */
    svg_fmt_fn tick_fmt;     /* NULL: fmt_si */
    const void *tick_ctx;
} svg_line_chart;

void svg_line_chart_write(FILE *f, const svg_line_chart *c);

#endif
