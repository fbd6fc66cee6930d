/* CSV rows and the SVG chart of a kmqtt-soak run. */
#include <stdio.h>
#include <string.h>

#include "soak_report.h"

int soak_csv_header(FILE *f)
{
    return fputs("cycle,heap_used,heap_peak,blocks,fds,sockets,threads,cycle_us\n", f) < 0 ? -1 : 0;
}

int soak_csv_row(FILE *f, const soak_sample_t *s)
{
    return fprintf(f, "%lu,%lu,%lu,%lu,%d,%d,%d,%lu\n", s->cycle, (unsigned long)s->heap_used,
                   (unsigned long)s->heap_peak, (unsigned long)s->blocks, s->fds, s->sockets,
                   s->threads, (unsigned long)s->cycle_us) < 0
               ? -1
               : 0;
}

/* Geometry of the chart, in SVG user units (pixels). The legend sits in the
 * right margin so it never hides a line. */
#define SVG_W         1000
#define SVG_H         680
#define SVG_LEFT      100
#define SVG_PLOT_W    680
#define SVG_PANEL_H   220
#define SVG_PANEL1_Y  90
#define SVG_PANEL2_Y  390
#define SVG_FONT      "font-family=\"sans-serif\" font-size=\"12\""
#define SVG_MAX_LINES 3

typedef double (*soak_get_fn)(const soak_sample_t *s);

typedef struct series {
    const char *name;
    const char *color;
    const char *dash; /* stroke-dasharray, or NULL for a solid line */
    soak_get_fn get;
} series_t;

typedef struct panel {
    double top;      /* y of the plot's top edge */
    double xlo, xhi; /* cycle range */
    unsigned long long ylo, yhi, ystep;
    const char *ylabel;
    const series_t *lines[SVG_MAX_LINES];
    size_t nlines;
} panel_t;

static double get_heap_used(const soak_sample_t *s)
{
    return (double)s->heap_used;
}

static double get_heap_peak(const soak_sample_t *s)
{
    return (double)s->heap_peak;
}

static double get_fds(const soak_sample_t *s)
{
    return (double)s->fds;
}

static double get_sockets(const soak_sample_t *s)
{
    return (double)s->sockets;
}

static double get_threads(const soak_sample_t *s)
{
    return (double)s->threads;
}

static const series_t heap_used = {"heap used at cycle end", "#1f77b4", NULL, get_heap_used};
static const series_t heap_peak = {"peak during cycle", "#ff7f0e", "6 3", get_heap_peak};
static const series_t fds = {"open fds", "#2ca02c", NULL, get_fds};
static const series_t sockets = {"open sockets", "#d62728", "6 3", get_sockets};
static const series_t threads = {"threads", "#9467bd", "2 3", get_threads};

/* A step of 1, 2 or 5 times a power of ten that cuts span into at most
 * about `parts` intervals: ticks a reader can add up at a glance. */
static unsigned long long nice_step(unsigned long long span, unsigned parts)
{
    unsigned long long raw = span / parts + (span % parts != 0), mag = 1;
    if (raw == 0) {
        raw = 1;
    }
    while (mag <= raw / 10u) {
        mag *= 10u;
    }
    if (raw <= mag) {
        return mag;
    }
    if (raw <= 2u * mag) {
        return 2u * mag;
    }
    if (raw <= 5u * mag) {
        return 5u * mag;
    }
    return 10u * mag;
}

static double px_x(const panel_t *p, double cycle)
{
    return SVG_LEFT + (cycle - p->xlo) / (p->xhi - p->xlo) * SVG_PLOT_W;
}

static double px_y(const panel_t *p, double v)
{
    return p->top + SVG_PANEL_H - (v - (double)p->ylo) / (double)(p->yhi - p->ylo) * SVG_PANEL_H;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
            break;
        }
    }
}

/* The y range: from 0 to a tick at or above every value, with one step of
 * headroom when a line would otherwise run along the top edge. */
static void panel_scale_y(panel_t *p, const soak_sample_t *s, size_t n)
{
    double max = 0.0;
    unsigned long long top;
    size_t i, k;
    for (i = 0; i < n; i++) {
        for (k = 0; k < p->nlines; k++) {
            double v = p->lines[k]->get(&s[i]);
            if (v > max) {
                max = v;
            }
        }
    }
    top = (unsigned long long)max;
    p->ylo = 0;
    p->ystep = nice_step(top, 5);
    p->yhi = (top / p->ystep + 1u) * p->ystep;
}

static void panel_axes(FILE *f, const panel_t *p, unsigned long long xstep)
{
    unsigned long long v, first;
    double bottom = p->top + SVG_PANEL_H;
    size_t k;

    fprintf(f,
            "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#fcfcfc\" "
            "stroke=\"#444\"/>\n",
            SVG_LEFT, p->top, SVG_PLOT_W, SVG_PANEL_H);
    for (v = p->ylo; v <= p->yhi; v += p->ystep) {
        double y = px_y(p, (double)v);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                SVG_LEFT, y, SVG_LEFT + SVG_PLOT_W, y);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                SVG_LEFT - 5, y, SVG_LEFT, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" %s>%llu</text>\n", SVG_LEFT - 8,
                y + 4.0, SVG_FONT, v);
    }
    first = ((unsigned long long)p->xlo + xstep - 1u) / xstep * xstep;
    for (v = first; (double)v <= p->xhi; v += xstep) {
        double x = px_x(p, (double)v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", x,
                bottom, x, bottom + 5.0);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" %s>%llu</text>\n", x,
                bottom + 19.0, SVG_FONT, v);
    }
    fprintf(f, "<text transform=\"translate(%d,%.1f) rotate(-90)\" text-anchor=\"middle\" %s>",
            SVG_LEFT - 70, p->top + SVG_PANEL_H / 2.0, SVG_FONT);
    xml_text(f, p->ylabel);
    fputs("</text>\n", f);
    for (k = 0; k < p->nlines; k++) {
        const series_t *sr = p->lines[k];
        double y = p->top + 14.0 + 20.0 * (double)k;
        int lx = SVG_LEFT + SVG_PLOT_W + 12;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\"",
                lx, y - 4.0, lx + 24, y - 4.0, sr->color);
        if (sr->dash != NULL) {
            fprintf(f, " stroke-dasharray=\"%s\"", sr->dash);
        }
        fprintf(f, "/>\n<text x=\"%d\" y=\"%.1f\" %s>", lx + 30, y, SVG_FONT);
        xml_text(f, sr->name);
        fputs("</text>\n", f);
    }
}

static void point(FILE *f, const panel_t *p, const soak_sample_t *s, soak_get_fn get)
{
    fprintf(f, "%.1f,%.1f ", px_x(p, (double)s->cycle), px_y(p, get(s)));
}

/* One polyline. Past two samples per pixel column only each column's lowest
 * and highest value is drawn (in the order they occurred), so a 10^6-cycle
 * run gives a small file with every spike still visible. */
static void panel_line(FILE *f, const panel_t *p, const series_t *sr, const soak_sample_t *s,
                       size_t n)
{
    size_t i;
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"", sr->color);
    if (sr->dash != NULL) {
        fprintf(f, " stroke-dasharray=\"%s\"", sr->dash);
    }
    fputs(" points=\"", f);
    if (n <= 2u * SVG_PLOT_W) {
        for (i = 0; i < n; i++) {
            point(f, p, &s[i], sr->get);
        }
    } else {
        size_t lo = 0, hi = 0;
        long col = (long)px_x(p, (double)s[0].cycle);
        for (i = 1; i <= n; i++) {
            long c = i < n ? (long)px_x(p, (double)s[i].cycle) : col + 1;
            if (c != col) {
                point(f, p, &s[lo < hi ? lo : hi], sr->get);
                if (lo != hi) {
                    point(f, p, &s[lo < hi ? hi : lo], sr->get);
                }
                if (i == n) {
                    break;
                }
                col = c;
                lo = hi = i;
            } else {
                if (sr->get(&s[i]) < sr->get(&s[lo])) {
                    lo = i;
                }
                if (sr->get(&s[i]) > sr->get(&s[hi])) {
                    hi = i;
                }
            }
        }
    }
    fputs("\"/>\n", f);
}

static void panel_warmup(FILE *f, const panel_t *p, unsigned long warmup)
{
    double x;
    if (warmup == 0 || (double)warmup < p->xlo || (double)warmup > p->xhi) {
        return;
    }
    x = px_x(p, (double)warmup);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
            "stroke-dasharray=\"3 3\"/>\n",
            x, p->top, x, p->top + SVG_PANEL_H);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#666\" %s>warm-up end</text>\n", x + 4.0,
            p->top - 4.0, SVG_FONT);
}

static void panel_draw(FILE *f, const panel_t *p, const soak_svg_info_t *info,
                       unsigned long long xstep, const soak_sample_t *s, size_t n)
{
    size_t k;
    panel_axes(f, p, xstep);
    panel_warmup(f, p, info->warmup);
    for (k = 0; k < p->nlines; k++) {
        panel_line(f, p, p->lines[k], s, n);
    }
}

int soak_svg_write(FILE *f, const soak_svg_info_t *info, const soak_sample_t *s, size_t n)
{
    panel_t heap, desc;
    unsigned long long xstep;

    if (n == 0) {
        return -1;
    }
    memset(&heap, 0, sizeof heap);
    /* The axis starts one before the first cycle (0 for a whole run), so
     * cycle 1 is not glued to the left edge and a single cycle still has a
     * range. */
    heap.xlo = s[0].cycle > 0 ? (double)(s[0].cycle - 1u) : 0.0;
    heap.xhi = (double)s[n - 1].cycle;
    if (heap.xhi <= heap.xlo) {
        heap.xhi = heap.xlo + 1.0;
    }
    desc = heap;
    heap.top = SVG_PANEL1_Y;
    heap.ylabel = "heap (bytes)";
    heap.lines[0] = &heap_used;
    heap.lines[1] = &heap_peak;
    heap.nlines = 2;
    desc.top = SVG_PANEL2_Y;
    desc.ylabel = "descriptors / threads";
    desc.lines[0] = &fds;
    desc.lines[1] = &sockets;
    desc.lines[2] = &threads;
    desc.nlines = 3;
    panel_scale_y(&heap, s, n);
    panel_scale_y(&desc, s, n);
    xstep = nice_step((unsigned long long)(heap.xhi - heap.xlo), 8);

    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\">\n<title>",
            SVG_W, SVG_H, SVG_W, SVG_H);
    xml_text(f, info->title != NULL ? info->title : "kmqtt-soak");
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SVG_W, SVG_H);
    fprintf(f,
            "<text x=\"%d\" y=\"30\" font-family=\"sans-serif\" font-size=\"18\" "
            "font-weight=\"bold\">",
            SVG_LEFT);
    xml_text(f, info->title != NULL ? info->title : "kmqtt-soak");
    fputs("</text>\n", f);
    if (info->subtitle != NULL) {
        fprintf(f, "<text x=\"%d\" y=\"52\" fill=\"#444\" %s>", SVG_LEFT, SVG_FONT);
        xml_text(f, info->subtitle);
        fputs("</text>\n", f);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" %s font-weight=\"bold\">heap of the parent context "
            "(every client's bytes)</text>\n",
            SVG_LEFT, SVG_PANEL1_Y - 20, SVG_FONT);
    panel_draw(f, &heap, info, xstep, s, n);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" %s font-weight=\"bold\">open descriptors, sockets and "
            "threads of the process</text>\n",
            SVG_LEFT, SVG_PANEL2_Y - 20, SVG_FONT);
    panel_draw(f, &desc, info, xstep, s, n);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" %s>cycle</text>\n",
            SVG_LEFT + SVG_PLOT_W / 2, SVG_PANEL2_Y + SVG_PANEL_H + 45, SVG_FONT);
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}
