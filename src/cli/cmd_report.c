/* cmd_report.c — `clickseg report OUTDIR`: re-renders report.html from a
 * finished run's report.h5 without rerunning the job, and prints a short
 * summary (text, JSON or CSV). Rank 0 does the work; it needs no mpirun. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "clickseg/html.h"
#include "clickseg/report_doc.h"

static void report_usage(FILE *out)
{
    fprintf(out,
        "usage: clickseg report OUTDIR [--html FILE | --no-html] [--format text|json|csv]\n\n"
        "Reads the report.h5 of a finished `clickseg run` (OUTDIR, or the report.h5 file\n"
        "itself), writes the HTML report again (default OUTDIR/report.html, replaced\n"
        "atomically: it is derived from report.h5 alone) and prints a short summary:\n"
        "headline totals and the segment table. Nothing is recomputed from the archive.\n\n"
        "options:\n"
        "      --html FILE      write the page to FILE instead of OUTDIR/report.html\n"
        "      --no-html        print the summary only\n"
        "  -f, --format FMT     summary format on stdout: text (default), json or csv\n"
        "  -q, --quiet          no summary (only the page)\n"
        "  -h, --help           this help\n\n"
        "Exit status: 0 ok, 2 usage, 4 no usable report.h5 (missing, not a clickseg report,\n"
        "or written by an older clickseg), 5 cannot write the page.\n");
}

typedef struct report_args {
    const char *dir, *html;
    int no_html, quiet, help, format;
} report_args;

static int report_parse(int argc, char **argv, report_args *a, cs_err *err)
{
    static const struct option lo[] = {
        {"html", required_argument, 0, 'H'}, {"no-html", no_argument, 0, 'N'},
        {"format", required_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    opterr = 0;
    optind = 1;
    int ch, rc = CS_OK;
    while (rc == CS_OK && (ch = getopt_long(argc, argv, ":f:qh", lo, NULL)) != -1) {
        switch (ch) {
        case 'H': a->html = optarg; break;
        case 'N': a->no_html = 1; break;
        case 'f':
            a->format = doc_format_from_name(optarg);
            if (a->format < 0)
                rc = cs_err_set(err, CS_EUSAGE, "--format: '%s' is not text, json or csv", optarg);
            break;
        case 'q': a->quiet = 1; break;
        case 'h': a->help = 1; break;
        default: rc = cli_bad_option(ch, argc, argv, err);
        }
    }
    if (rc != CS_OK || a->help)
        return rc;
    if (optind >= argc)
        return cs_err_set(err, CS_EUSAGE, "which report? give the output directory of a run "
                          "(see --help)");
    a->dir = argv[optind++];
    if (cli_check_path("the report directory", a->dir, CS_OUTPUT_PATH_MAX, err) != CS_OK)
        return err->code;
    if (optind < argc)
        return cs_err_set(err, CS_EUSAGE, "unexpected argument '%s' (one OUTDIR only)", argv[optind]);
    if (a->html && a->no_html)
        return cs_err_set(err, CS_EUSAGE, "--html and --no-html contradict each other");
    if (a->html && cli_check_path("--html", a->html, PATH_MAX, err) != CS_OK)
        return err->code;
    return CS_OK;
}

/* CS_EUSAGE when --html FILE would replace something that is not a page:
 * the report.h5 being read (the page was written over it, and the report
 * was gone), or any existing file that does not start as an HTML page (an
 * archive, a CSV). A page written before is replaced, as the default one
 * is. */
static int check_page_target(const char *html, const char *report_h5, cs_err *err)
{
    struct stat a, b;
    if (stat(html, &a) != 0)
        return CS_OK;   /* a new file */
    if (stat(report_h5, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return cs_err_set(err, CS_EUSAGE, "--html %s: that is the report.h5 being read; the page "
                          "would replace the report", html);
    char head[16] = "";
    FILE *f = S_ISREG(a.st_mode) ? fopen(html, "rb") : NULL;
    size_t got = f ? fread(head, 1, sizeof head - 1, f) : 0;
    if (f)
        fclose(f);
    head[got] = '\0';
    if (got == 0 && S_ISREG(a.st_mode))
        return CS_OK;   /* an empty file holds nothing to lose */
    if (S_ISREG(a.st_mode) && strncasecmp(head, "<!DOCTYPE html", 14) == 0)
        return CS_OK;
    return cs_err_set(err, CS_EUSAGE, "--html %s: it exists and is not an HTML page; give a new "
                      "file or a page written before", html);
}

int cmd_report(const cs_comm *c, int argc, char **argv)
{
    cs_err err;
    cs_err_clear(&err);
    report_args a;
    report_parse(argc, argv, &a, &err);
    if (a.help && err.code == CS_OK) {
        if (c->rank == 0)
            report_usage(stdout);
        return 0;
    }
    if (err.code == CS_OK && c->rank == 0) {
        cs_report_doc d;
        if (report_doc_load(a.dir, &d, &err) == CS_OK) {
            char path[2100];
            snprintf(path, sizeof path, "%s/report.html", d.dir);
            const char *html = a.html ? a.html : path;
            if (!a.no_html && a.html)
                check_page_target(a.html, d.path, &err);
            if (err.code == CS_OK && !a.no_html && report_html_write(&d, html, &err) != CS_OK)
                cs_err_wrap(&err, "writing the page");
            if (err.code == CS_OK && !a.quiet)
                report_doc_print(&d, a.format, stdout, &err);
            if (err.code == CS_OK && !a.quiet && !a.no_html && a.format == DOC_TEXT)
                printf("  page: %s\n", html);
        }
        report_doc_free(&d);
    }
    if (comm_agree(c, &err) != CS_OK)
        return cli_fail(c, "report", &err);
    return 0;
}
