/* import.c — `clickseg import`, the job: inputs and sniffing (rank 0),
 * parallel parsing of byte ranges, line numbers and counts, the reject
 * limit, then dictionaries, sort, files and reports (import_*.c), and the
 * all-or-nothing move into place. See import.h for the flow. */
#include "clickseg/import.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "clickseg/numfmt.h"
#include "clickseg/textin.h"
#include "import_impl.h"

#define MAX_INPUT_FILES 65535

/* ---- prolog (rank 0) ---- */

/* Every file an import writes (what --force replaces): the event files,
 * the dictionaries, the summary and the rejects. */
static const char *const import_outputs[] = { "events*.h5", "dictionaries.h5", "import.json",
                                              "rejects.csv", NULL };

/* CS_EINPUT when line 1 shows that the file is not UTF-8 or ASCII text
 * with \n line ends (every format is): UTF-16/32 (a byte-order mark, or
 * NULs), or old Mac line ends (a lone \r: the whole file is one line). A
 * format's sniff would see a header with no known column and say only that. */
static int check_text(const imp_file *f, const char *line, size_t len, cs_err *err)
{
    static const struct { const char *bom; size_t n; const char *name; } boms[] = {
        { "\xff\xfe\0\0", 4, "UTF-32LE" }, { "\0\0\xfe\xff", 4, "UTF-32BE" },
        { "\xff\xfe", 2, "UTF-16LE" }, { "\xfe\xff", 2, "UTF-16BE" },
    };
    for (size_t i = 0; i < sizeof boms / sizeof boms[0]; i++)
        if (len >= boms[i].n && memcmp(line, boms[i].bom, boms[i].n) == 0)
            return cs_err_set(err, CS_EINPUT, "%s: line 1 starts with a %s byte-order mark: the "
                              "file is %s text, not UTF-8; convert it first (iconv -f %s -t "
                              "UTF-8)", f->path, boms[i].name, boms[i].name, boms[i].name);
    const char *nul = memchr(line, '\0', len);
    if (nul)
        return cs_err_set(err, CS_EINPUT, "%s: line 1 holds a NUL byte (at byte %zu): a binary "
                          "file, or UTF-16/32 text without a byte-order mark? (import reads "
                          "UTF-8 text)", f->path, (size_t)(nul - line) + 1);
    const char *cr = memchr(line, '\r', len);
    if (cr)
        return cs_err_set(err, CS_EINPUT, "%s: line 1 holds a carriage return not followed by a "
                          "line feed (at byte %zu): old Mac line ends? Lines must end in \\n or "
                          "\\r\\n (convert with tr '\\r' '\\n')", f->path,
                          (size_t)(cr - line) + 1);
    return CS_OK;
}

/* 1 when the line holds only spaces and tabs. */
static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* Reads the first line of file f and lets the format check it. */
static int sniff_file(imp_ctx *x, imp_file *f, cs_err *err)
{
    if (f->bytes == 0)
        return CS_OK;
    cs_textin *t;
    int rc = textin_open(f->path, f->gzip, 0, INT64_MAX, &t, err);
    if (rc != CS_OK)
        return rc;
    const char *line;
    size_t len;
    /* Blank lines before the first row are counted as blank lines by the
     * parse, as anywhere else: the format is told by the first line that
     * has something. A header, though, must be line 1 (the parse skips
     * line 1 as the header). */
    int got, skipped = 0;
    while ((got = textin_next(t, &line, &len, err)) == 1 && blank(line, len))
        skipped++;
    if (got == 1 && (rc = check_text(f, line, len, err)) == CS_OK)
        rc = x->imp->sniff(&x->p, f, line, len, err);
    else if (got < 0)
        rc = err->code;
    /* A sniff takes any failure of imp_split for "not a header" (exit 4),
     * or, counting a headerless csv's fields, for no count (rows of any
     * count imported): its scratch that could not be allocated (IMP_FATAL,
     * the error in the parser's err) is said as that. */
    if (x->p.err.code != CS_OK) {
        *err = x->p.err;
        rc = cs_err_wrap(err, "%s: line 1", f->path);
    }
    if (rc == CS_OK && got == 1 && skipped && f->has_header)
        rc = cs_err_set(err, CS_EINPUT, "%s: the header is on line %d, after blank lines: "
                        "a header must be line 1", f->path, skipped + 1);
    textin_close(t);
    return rc;
}

/* Expands the inputs, probes and sniffs each file, prepares the
 * temporary output directory. */
static int prepare(imp_ctx *x, cs_err *err)
{
    const cs_import_opts *o = x->o;
    if (o->ninputs == 0)
        return cs_err_set(err, CS_EUSAGE, "no input files (see --help)");
    cs_pathlist pl = {0};
    int rc = CS_OK;
    for (int i = 0; rc == CS_OK && i < o->ninputs; i++) {
        struct stat st;
        if (stat(o->inputs[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = cs_err_set(err, CS_EINPUT, "%s: is a directory (name the files, e.g. with a "
                            "glob like '%s/*.csv')", o->inputs[i], o->inputs[i]);
        else
            rc = fs_expand_input(&pl, o->inputs[i], err);
    }
    if (rc == CS_OK && pl.n > MAX_INPUT_FILES)
        rc = cs_err_set(err, CS_EUSAGE, "%d input files, at most %d", pl.n, MAX_INPUT_FILES);
    if (rc == CS_OK && !(x->files = cs_calloc((size_t)pl.n, sizeof *x->files, err, "input list")))
        rc = CS_ENOMEM;
    for (int i = 0; rc == CS_OK && i < pl.n; i++) {
        imp_file *f = &x->files[i];
        snprintf(f->path, sizeof f->path, "%s", pl.path[i]);
        int gz = textin_probe(f->path, &f->bytes, err);
        rc = gz < 0 ? err->code : CS_OK;
        f->gzip = gz > 0;
        if (rc == CS_OK)
            rc = sniff_file(x, f, err);
        x->nfiles = i + 1;
    }
    fs_pathlist_free(&pl);
    /* Any .h5 there is an archive (run reads them all): kept unless forced,
     * and with --force another .h5 (a profile table put beside an earlier
     * import) is still refused: run would read it with the new archive,
     * yet it is not ours to remove. */
    char other[256];
    if (rc == CS_OK && !o->force && fs_first_other(x->final, "*.h5", NULL, other, sizeof other))
        rc = cs_err_set(err, CS_EIO, "%s: holds an archive already; use --force to replace it "
                        "or choose another output directory", x->final);
    if (rc == CS_OK && o->force && fs_first_other(x->final, "*.h5", import_outputs, other,
                                                  sizeof other))
        rc = cs_err_set(err, CS_EIO, "%s/%s: not a file of an imported archive, but run would "
                        "read it with one: move it away, or choose another output directory",
                        x->final, other);
    /* As run and merge do: a second job into the same directory is
     * refused, not left to replace the first one's archive under it. */
    if (rc == CS_OK)
        rc = fs_lock_output(x->final, &x->lock_fd, err);
    if (rc == CS_OK)
        rc = fs_begin_output(x->final, import_outputs, o->force, x->tmp, sizeof x->tmp, err);
    return rc;
}

/* Every rank gets the file list and the temporary directory. */
static int share_inputs(imp_ctx *x, cs_err *err)
{
    int rc = comm_bcast(x->c, &x->nfiles, sizeof x->nfiles, err);
    if (rc == CS_OK && x->c->rank != 0 &&
        !(x->files = cs_calloc((size_t)x->nfiles, sizeof *x->files, err, "input list")))
        rc = CS_ENOMEM;
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    rc = comm_bcast(x->c, x->files, (size_t)x->nfiles * sizeof *x->files, err);
    if (rc == CS_OK)
        rc = comm_bcast(x->c, x->tmp, sizeof x->tmp, err);
    return rc;
}


/* ---- parsing (every rank) ---- */

/* ---- progress (rank 0) ---- */

void imp_step(imp_ctx *x, const char *fmt, ...)
{
    if (!x->tick.on)
        return;
    char step[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(step, sizeof step, fmt, ap);
    va_end(ap);
    ticker_step(&x->tick, step, comm_wtime());
}

void imp_tick(imp_ctx *x, double frac)
{
    if (x->tick.on)
        ticker_update(&x->tick, frac, comm_wtime());
}

/* Rank 0's share of the input parsed so far, in bytes: the segments done
 * and the plain file's offset in this one (a gzip file counts when done:
 * its offset is into the decompressed text). */
static void parse_tick(imp_ctx *x, const textin_seg *s, const cs_textin *t)
{
    int64_t in = x->files[s->file].gzip ? 0 : textin_offset(t) - s->start;
    imp_tick(x, x->tick_total ? (double)(x->tick_done + in) / (double)x->tick_total : 0);
}

/* The bytes of a segment, as parse_tick counts them. */
static int64_t seg_bytes(const imp_ctx *x, const textin_seg *s)
{
    return x->files[s->file].gzip ? x->files[s->file].bytes : s->end - s->start;
}

/* Parses one segment; counts into cnt (file's row of FC_N). A full
 * buffer of events goes to disk as a sorted run (import_ext.c). */
static int parse_segment(imp_ctx *x, const textin_seg *s, int64_t *cnt, cs_err *err)
{
    const imp_file *f = &x->files[s->file];
    imp_parser *p = &x->p;
    cs_textin *t;
    int rc = textin_open(f->path, f->gzip, s->start, s->end, &t, err);
    if (rc != CS_OK)
        return rc;
    const char *line;
    size_t len;
    uint64_t local = 0;
    int got;
    while (rc == CS_OK && (got = textin_next(t, &line, &len, err)) == 1) {
        local++;
        if (s->start == 0 && local == 1 && f->has_header) {
            cnt[FC_HEADER]++;
            continue;
        }
        if (blank(line, len)) {
            cnt[FC_BLANK]++;
            continue;
        }
        cnt[FC_ROWS]++;
        uint64_t mark = p->nev;
        p->cur_file = (uint16_t)s->file;
        p->cur_line = local;
        p->sub = 0;
        p->detail[0] = '\0';
        int r = x->imp->parse(p, f, line, len);
        if (r == IMP_FATAL) {
            *err = p->err;
            rc = cs_err_wrap(err, "%s: line at byte %lld", f->path, (long long)textin_offset(t));
        } else if (r != IMP_ACCEPT) {
            p->nev = mark;
            cnt[FC_REJECTED]++;
            x->reasons[r]++;
            rc = iwrite_spill(x, s->file, local, 0, r, p->detail, line, len, err);
        } else {
            cnt[FC_EVENTS] += (int64_t)(p->nev - mark);
        }
        if (rc == CS_OK)
            rc = iext_add(x, err);
        if ((local & 0xffff) == 0)
            parse_tick(x, s, t);
    }
    if (rc == CS_OK && got < 0)
        rc = err->code;
    textin_close(t);
    cnt[FC_LINES] += (int64_t)local;
    x->tick_done += seg_bytes(x, s);
    return rc;
}

/* Parses this rank's ranges; then line numbers become file line numbers
 * and the counters are summed over ranks. */
static int parse_all(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    int nf = x->nfiles, rc = CS_OK;
    textin_seg *seg = cs_calloc((size_t)nf + 1, sizeof *seg, err, "input ranges");
    int64_t *bytes = cs_calloc((size_t)nf + 1, sizeof *bytes, err, "input sizes");
    int *gz = cs_calloc((size_t)nf + 1, sizeof *gz, err, "input kinds");
    x->cnt = cs_calloc((size_t)nf * FC_N + 1, sizeof *x->cnt, err, "counters");
    x->lines = cs_calloc((size_t)nf * (size_t)c->size + 1, sizeof *x->lines, err, "line counts");
    if (!seg || !bytes || !gz || !x->cnt || !x->lines)
        rc = CS_ENOMEM;
    snprintf(x->spill_path, sizeof x->spill_path, "%s/.rejects-%d.part", x->tmp, c->rank);
    if (rc == CS_OK && !(x->spill = fopen(x->spill_path, "wb")))
        rc = cs_err_set(err, CS_EIO, "%s: cannot create: %s", x->spill_path, strerror(errno));
    for (int i = 0; i < nf; i++) {
        if (rc != CS_OK)
            break;
        bytes[i] = x->files[i].bytes;
        gz[i] = x->files[i].gzip;
    }
    int nseg = rc == CS_OK ? textin_plan(bytes, gz, nf, c->rank, c->size, seg) : 0;
    for (int i = 0; i < nseg; i++)
        x->tick_total += seg_bytes(x, &seg[i]);
    imp_step(x, "parsing");
    for (int i = 0; rc == CS_OK && i < nseg; i++) {
        int64_t before = x->cnt[seg[i].file * FC_N + FC_LINES];
        rc = parse_segment(x, &seg[i], &x->cnt[seg[i].file * FC_N], err);
        x->lines[c->rank * nf + seg[i].file] = x->cnt[seg[i].file * FC_N + FC_LINES] - before;
    }
    if (x->spill && fclose(x->spill) != 0 && rc == CS_OK)
        rc = cs_err_set(err, CS_EIO, "%s: %s", x->spill_path, strerror(errno));
    x->spill = NULL;
    if (x->p.nev && x->p.cap > x->p.nev) {   /* give back the growth slack */
        imp_event *e = realloc(x->p.ev, x->p.nev * sizeof *e);
        if (e) {
            x->p.ev = e;
            x->p.cap = x->p.nev;
        }
    }
    free(seg);
    free(bytes);
    free(gz);
    if (comm_agree(c, err) != CS_OK || iext_finish_parse(x, err) != CS_OK)
        return err->code;
    /* Line numbers: add the lines of the file that ranks before this one
     * read (to the sorted runs when they are read back). */
    rc = comm_sum_i64(c, x->lines, (size_t)nf * (size_t)c->size, 1, err);
    if (rc != CS_OK)
        return rc;
    uint64_t *base = x->line_base = cs_calloc((size_t)nf + 1, sizeof *base, err, "line numbers");
    if (!base)
        rc = CS_ENOMEM;
    for (int f = 0; rc == CS_OK && f < nf; f++)
        for (int r = 0; r < c->rank; r++)
            base[f] += (uint64_t)x->lines[r * nf + f];
    for (uint64_t i = 0; rc == CS_OK && i < x->p.nev; i++)
        x->p.ev[i].line += base[x->p.ev[i].file];
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    rc = comm_sum_i64(c, x->cnt, (size_t)nf * FC_N, 1, err);
    if (rc == CS_OK)
        rc = comm_sum_i64(c, x->reasons, IMP_NREASONS, 1, err);
    return rc;
}

/* ---- epilog ---- */

int64_t imp_total(const imp_ctx *x, int what)
{
    int64_t s = 0;
    for (int i = 0; i < x->nfiles; i++)
        s += x->cnt[i * FC_N + what];
    return s;
}

/* Rank 0: rejects.csv, import.json, then the move into place, once every
 * rank's run file is gone from the temporary directory (a rank removing
 * its own while rank 0 moved the files failed the import: "cannot move
 * into place", or left the run file among the outputs). */
static int finish(imp_ctx *x, const char *status, cs_err *err)
{
    iext_drop_runs(x);
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    int rc = CS_OK;
    if (x->c->rank == 0) {
        rc = iwrite_rejects_csv(x, err);
        if (rc == CS_OK)
            rc = iwrite_summary(x, status, err);
        if (rc == CS_OK)
            rc = fs_commit_output(x->tmp, x->final, import_outputs, err);
    }
    return comm_agree(x->c, err);
}

/* Sort, duplicates and files when every rank's events fit in its memory. */
static int build_in_memory(imp_ctx *x, cs_err *err)
{
    double t = comm_wtime();
    int rc;
    if ((rc = isort_global(x, err)) != CS_OK || (rc = isort_dedupe(x, err)) != CS_OK)
        return rc;
    x->t_sort = comm_wtime() - t;
    t = comm_wtime();
    imp_step(x, "writing");
    if ((rc = iwrite_plan(x, err)) != CS_OK || (rc = iwrite_reserve(x, err)) != CS_OK ||
        (rc = idict_write(x, err)) != CS_OK || (rc = iwrite_events(x, err)) != CS_OK)
        return rc;
    x->t_write = comm_wtime() - t;
    return CS_OK;
}

/* The import after parsing: the reject limit, then the archive. */
static int build_archive(imp_ctx *x, cs_err *err)
{
    int64_t rows = imp_total(x, FC_ROWS), rej = imp_total(x, FC_REJECTED);
    double share = rows ? (double)rej / (double)rows : 0;
    if (rows == 0) {
        /* Name the files: with one input the message is about that file. */
        char names[600] = "";
        size_t used = 0;
        for (int i = 0; i < x->nfiles && i < 3 && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s (%lld bytes)",
                                     i ? ", " : "", x->files[i].path,
                                     (long long)x->files[i].bytes);
        return cs_err_set(err, CS_EINPUT, "the inputs hold no rows (%lld lines: %lld header, "
                          "%lld blank): %s%s", (long long)imp_total(x, FC_LINES),
                          (long long)imp_total(x, FC_HEADER), (long long)imp_total(x, FC_BLANK),
                          names, x->nfiles > 3 ? ", ..." : "");
    }
    if (share > x->cfg->import_max_reject_share) {
        if (finish(x, "too_many_rejects", err) != CS_OK)
            return err->code;
        /* The commonest reason and the first reject: usually the whole story
         * (a wrong time format, a wrong delimiter) without opening a file. */
        int top = 1;
        for (int r = 2; r < IMP_NREASONS; r++)
            if (x->reasons[r] > x->reasons[top])
                top = r;
        return cs_err_set(err, CS_EINPUT, "%lld of %lld rows rejected (%.2f%%), more than "
                          "import.max_reject_share (%g%%); no archive written, see %s/rejects.csv "
                          "and %s/import.json; most are %s (%lld), the first: %s", (long long)rej,
                          (long long)rows, 100 * share, 100 * x->cfg->import_max_reject_share,
                          x->final, x->final, imp_reason_name(top), (long long)x->reasons[top],
                          x->c->rank == 0 ? x->first_reject : "");
    }
    char n[NUMFMT_MAX];
    imp_step(x, "sorting %s events", fmt_uint(n, sizeof n, (uint64_t)imp_total(x, FC_EVENTS)));
    double t = comm_wtime();
    int rc = idict_merge(x, err);
    x->t_dict = comm_wtime() - t;
    if (rc != CS_OK)
        return rc;
    if (x->external)
        rc = iext_build(x, err);
    else
        rc = build_in_memory(x, err);
    if (rc != CS_OK)
        return rc;
    /* Nothing lost: every parsed event is written or a dropped duplicate. */
    uint64_t written = 0;
    for (int i = 0; i < x->nperiods; i++)
        written += x->per[i].rows;
    if (written + x->dropped != (uint64_t)imp_total(x, FC_EVENTS))
        return cs_err_set(err, CS_EINTERNAL, "events do not add up: %llu written + %llu "
                          "duplicates dropped != %lld parsed", (unsigned long long)written,
                          (unsigned long long)x->dropped, (long long)imp_total(x, FC_EVENTS));
    return finish(x, "ok", err);
}

int import_run(const cs_comm *c, const cs_config *cfg, const cs_import_opts *o,
               cs_import_result *res, cs_err *err)
{
    static imp_ctx ctx;   /* large (the parser's scratch): off the stack */
    imp_ctx *x = &ctx;
    memset(x, 0, sizeof *x);
    memset(res, 0, sizeof *res);
    x->c = c;
    x->cfg = cfg;
    x->o = o;
    x->lock_fd = -1;
    iext_init(x);
    x->t_start = comm_wtime();
    ticker_init(&x->tick, stderr, "clickseg import", c->rank == 0 && !o->quiet, o->progress,
                x->t_start);
    snprintf(x->final, sizeof x->final, "%s", o->output);
    fs_trim_slashes(x->final);
    const char *fmt = o->format ? o->format : cfg->import_format;
    x->imp = importer_find(fmt);
    if (!x->imp) {
        char names[256];
        importer_names(names, sizeof names);
        if (!*fmt)
            return cs_err_set(err, CS_EUSAGE, "no format: give --format NAME (or import.format "
                              "in the config); known: %s", names);
        return cs_err_set(err, o->format ? CS_EUSAGE : CS_ECONFIG, "unknown format '%s'%s "
                          "(known: %s)", fmt, o->format ? "" : " in import.format", names);
    }
    int rc = imp_parser_init(&x->p, cfg, err);
    if (rc == CS_OK && c->rank == 0)
        rc = prepare(x, err);
    if (comm_agree(c, err) == CS_OK && share_inputs(x, err) == CS_OK) {
        double t = comm_wtime();
        rc = parse_all(x, err);
        x->t_parse = comm_wtime() - t;
        if (rc == CS_OK)
            rc = build_archive(x, err);
    }
    rc = err->code;
    if (rc != CS_OK && c->rank == 0 && x->tmp[0])
        fs_abandon_output(x->tmp);
    if (c->rank == 0)
        fs_unlock_output(x->final, x->lock_fd);
    if (x->cnt) {
        res->rows = (uint64_t)imp_total(x, FC_ROWS);
        res->rejected = (uint64_t)imp_total(x, FC_REJECTED);
    }
    for (int i = 0; i < x->nperiods; i++)
        res->events += x->per[i].rows;
    res->duplicates = x->duplicates;
    res->dropped = x->dropped;
    res->files = x->nperiods;
    res->seconds = comm_wtime() - x->t_start;
    ticker_end(&x->tick);
    iext_cleanup(x);
    imp_parser_free(&x->p);
    free(x->wmem);
    free(x->files);
    free(x->cnt);
    free(x->lines);
    free(x->remap_hash);
    free(x->remap_id);
    free(x->per);
    free(x->pfirst);
    free(x->pcnt);
    free(x->poff);
    free(x->prounds);
    return rc;
}
