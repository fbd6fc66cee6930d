/*
 * kmqtt-soak's outputs: one measurement per cycle as a CSV row, and the
 * whole run as a self-contained SVG chart (heap on top, descriptors and
 * threads below, cycle along the bottom) that opens in any browser.
 */
#ifndef KMQTT_SOAK_REPORT_H
#define KMQTT_SOAK_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What the process looked like at the end of one cycle (after destroy). */
typedef struct soak_sample {
    unsigned long cycle; /* 1-based */
    size_t heap_used;    /* bytes the parent context still holds */
    size_t heap_peak;    /* highest bytes in use during this cycle */
    size_t blocks;       /* live blocks in the parent context */
    int fds;             /* open descriptors of the process */
    int sockets;         /* those of them that are sockets */
    int threads;         /* threads of the process */
    uint32_t cycle_us;   /* create .. destroy, microseconds */
} soak_sample_t;

/* Writes the CSV header line / one row. Return 0, or -1 on a write error. */
int soak_csv_header(FILE *f);
int soak_csv_row(FILE *f, const soak_sample_t *s);

typedef struct soak_svg_info {
    const char *title;    /* top line, e.g. "kmqtt-soak: 1000 cycles ..." */
    const char *subtitle; /* second line, e.g. the summary; may be NULL */
    unsigned long warmup; /* cycle after which growth is measured; 0 = none drawn */
} soak_svg_info_t;

/* Writes the chart of n samples (n >= 1, in cycle order). Returns 0, or -1
 * on a write error. Text is XML-escaped, so any title is safe. */
int soak_svg_write(FILE *f, const soak_svg_info_t *info, const soak_sample_t *s, size_t n);

#endif
