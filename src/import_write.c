/* import_write.c — what an import leaves behind: one archive file per
 * period of the split (written by all ranks, each its slice of the global
 * time order), the rejects (spilled by each rank while parsing, turned into
 * rejects.csv by rank 0 in input order) and import.json, the summary. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "clickseg/archive.h"
#include "clickseg/csvtext.h"
#include "clickseg/features.h"
#include "clickseg/period.h"
#include "import_impl.h"

#define WRITE_ROWS (1u << 20)   /* rows per collective write: bounds the column buffers */

/* ---- archive files ---- */

/* This rank's periods: key and [first, first+count) of its sorted events. */
typedef struct local_period {
    int64_t key;
    uint64_t first, count;
} local_period;

/* The period keys of this rank's (sorted) events, in order. */
static int local_periods(imp_ctx *x, local_period **out, int *nout, cs_err *err)
{
    const imp_parser *p = &x->p;
    int split = x->cfg->import_split, n = 0, cap = 16;
    cs_tz utc;
    if (tz_open(&utc, "UTC", err) != CS_OK)
        return err->code;
    local_period *lp = cs_malloc((size_t)cap * sizeof *lp, err, "periods");
    int rc = lp ? CS_OK : CS_ENOMEM;
    for (uint64_t i = 0; rc == CS_OK && i < p->nev; i++) {
        int64_t k = split == IMPORT_SPLIT_NONE ? 0 : period_key(&utc, split, p->ev[i].ts);
        if (n && lp[n - 1].key == k) {
            lp[n - 1].count++;
            continue;
        }
        if (n == cap) {
            local_period *np = cs_realloc(lp, (size_t)cap * 2 * sizeof *np, err, "periods");
            if (!np) {
                rc = CS_ENOMEM;
                break;
            }
            lp = np;
            cap *= 2;
        }
        lp[n++] = (local_period){ k, i, 1 };
    }
    tz_close(&utc);
    *out = lp;
    *nout = n;
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every rank gets the sorted union of the ranks' period keys. */
static int global_periods(imp_ctx *x, const local_period *lp, int n, int64_t **keys, int *nkeys,
                          cs_err *err)
{
    const cs_comm *c = x->c;
    int64_t *mine = cs_calloc((size_t)n + 1, sizeof *mine, err, "periods");
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "periods");
    int rc = mine && counts ? CS_OK : CS_ENOMEM;
    for (int i = 0; rc == CS_OK && i < n; i++)
        mine[i] = lp[i].key;
    void *all = NULL;
    /* rc takes each agreement: a rank whose allocation failed must not be
     * left in comm_agree while the others go on to the broadcast. */
    rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = comm_gatherv(c, mine, (uint64_t)n * sizeof *mine, &all, counts, err);
    int k = 0;
    if (rc == CS_OK && c->rank == 0) {
        uint64_t tot = 0;
        for (int r = 0; r < c->size; r++)
            tot += counts[r] / sizeof(int64_t);
        int64_t *a = all;
        qsort(a, tot, sizeof *a, cmp_i64);
        for (uint64_t i = 0; i < tot; i++)
            if (k == 0 || a[k - 1] != a[i])
                a[k++] = a[i];
    }
    free(mine);
    free(counts);
    if (rc == CS_OK)
        rc = comm_bcast(c, &k, sizeof k, err);
    if (rc == CS_OK && c->rank != 0 && !(all = cs_malloc((size_t)k * sizeof(int64_t) + 1, err,
                                                          "periods")))
        rc = CS_ENOMEM;
    rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = comm_bcast(c, all, (size_t)k * sizeof(int64_t), err);
    *keys = all;
    *nkeys = k;
    return rc;
}

/* Rows per write: WRITE_ROWS, fewer when memory_per_rank is small (a
 * sixteenth of it). */
int iwrite_buffers(imp_ctx *x, cs_err *err)
{
    const uint64_t row = 8 * 5 + 4 * 2 + 1;
    uint64_t n = (uint64_t)x->cfg->memory_per_rank / 16 / row;
    n = n < 4096 ? 4096 : n > WRITE_ROWS ? WRITE_ROWS : n;
    char *m = cs_malloc(n * row, err, "write buffers");
    x->wmem = m;
    x->wrows = n;
    if (!m)
        return CS_ENOMEM;
    cs_columns *c = &x->wcols;
    c->ts = (int64_t *)(void *)m;
    c->user_id = (uint64_t *)(void *)(m + 8 * n);
    c->product_id = (uint64_t *)(void *)(m + 16 * n);
    c->session_id = (uint64_t *)(void *)(m + 24 * n);
    c->price = (int64_t *)(void *)(m + 32 * n);
    c->category_id = (uint32_t *)(void *)(m + 40 * n);
    c->brand_id = (uint32_t *)(void *)(m + 44 * n);
    c->event_type = (uint8_t *)(m + 48 * n);
    return CS_OK;
}

int iwrite_open(imp_ctx *x, const imp_period *per, cs_archive_writer **out, cs_err *err)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", x->tmp, per->name);
    cs_archive_writer *w = NULL;
    /* Checksummed chunks as generate writes them: an imported archive is
     * what years of reruns read, and without a checksum a flipped bit on
     * disk reads back as a plausible wrong value. A filter makes the
     * writes collective (iwrite_slice already calls every round on every
     * rank). */
    int rc = archive_create(x->c, path, per->rows, CS_ARCHIVE_CHECKSUM, &w, err);
    *out = w;
    if (!w)
        return rc;
    char src[256];
    snprintf(src, sizeof src, "clickseg import --format %s", x->imp->name);
    if (rc == CS_OK)
        rc = archive_set_attr(w, "currency", x->imp->currency, err);
    if (rc == CS_OK)
        rc = archive_set_attr(w, "source", src, err);
    return rc;
}

/* Rows a write round covers at most: the buffers' rows, cut to whole
 * chunks when they hold one or more. Rounds end at file rows that are
 * multiples of it, so a checksummed chunk is written whole, once, instead
 * of in two pieces the second of which reads the first back. */
static uint64_t round_rows(const imp_ctx *x, const imp_period *per)
{
    uint64_t ch = archive_chunk_rows(per->rows);
    return x->wrows >= ch ? x->wrows - x->wrows % ch : x->wrows;
}

uint64_t iwrite_rounds(const imp_ctx *x, const imp_period *per, uint64_t off, uint64_t count)
{
    uint64_t step = round_rows(x, per);
    return count ? (off + count - 1) / step - off / step + 1 : 0;
}

int iwrite_slice(imp_ctx *x, cs_archive_writer *w, const imp_period *per, const imp_event *ev,
                 uint64_t count, uint64_t off, uint64_t rounds, cs_err *err)
{
    cs_columns *c = &x->wcols;
    int rc = CS_OK;
    const uint64_t step = round_rows(x, per), end = off + count;
    for (uint64_t r = 0, done = 0; r < rounds; r++) {
        uint64_t at = off + done, stop = at < end ? (at / step + 1) * step : at;
        uint64_t m = (stop < end ? stop : end) - at;
        for (uint64_t i = 0; i < m; i++) {
            const imp_event *e = &ev[done + i];
            c->ts[i] = e->ts;
            c->user_id[i] = e->user_id;
            c->event_type[i] = e->type;
            c->product_id[i] = e->product_id;
            c->category_id[i] = idict_id32(x, e->category);
            c->brand_id[i] = idict_id32(x, e->brand);
            c->price[i] = e->price;
            c->session_id[i] = e->session_id;
            x->type_counts[e->type & 7]++;
        }
        cs_err werr;
        cs_err_clear(&werr);
        /* every rank calls every round, even after a failure: it is collective */
        if (archive_write_rows(w, off + done, m, c, NULL, &werr) != CS_OK && rc == CS_OK)
            *err = werr, rc = werr.code;
        done += m;
    }
    return rc;
}

/* Writes period k: every rank its rows [first, first+count) at file row
 * `off`, in collective rounds (the same number on every rank). */
static int write_period(imp_ctx *x, const imp_period *per, uint64_t first, uint64_t count,
                        uint64_t off, uint64_t rounds, cs_err *err)
{
    cs_archive_writer *w = NULL;
    int rc = iwrite_open(x, per, &w, err);
    if (!w)
        return rc;
    int r = iwrite_slice(x, w, per, x->p.ev + first, count, off, rounds, err);
    return iwrite_close(x, w, per, rc == CS_OK ? r : rc, err);
}

int iwrite_close(imp_ctx *x, cs_archive_writer *w, const imp_period *per, int rc, cs_err *err)
{
    /* The close agrees on cerr: it carries this rank's message, or the
     * other ranks would report "rank N: " and nothing. */
    cs_err cerr;
    cs_err_clear(&cerr);
    if (rc != CS_OK)
        cerr = *err;
    cerr.code = rc;
    if (archive_close(x->c, w, per->ts_min, per->ts_max, &cerr) != CS_OK && rc == CS_OK)
        *err = cerr, rc = cerr.code;
    return rc;
}

int iwrite_plan(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    local_period *lp = NULL;
    int nlp = 0, nk = 0;
    int64_t *keys = NULL;
    int rc = local_periods(x, &lp, &nlp, err);
    if (comm_agree(c, err) != CS_OK || global_periods(x, lp, nlp, &keys, &nk, err) != CS_OK) {
        free(lp);
        free(keys);
        return err->code;
    }
    /* per global period: this rank's count and first row; totals, offsets, times */
    x->pcnt = cs_calloc((size_t)nk + 1, sizeof *x->pcnt, err, "periods");
    x->pfirst = cs_calloc((size_t)nk + 1, sizeof *x->pfirst, err, "periods");
    x->poff = cs_calloc((size_t)nk + 1, sizeof *x->poff, err, "periods");
    x->prounds = cs_calloc((size_t)nk + 1, sizeof *x->prounds, err, "periods");
    int64_t *v = cs_calloc(3 * (size_t)nk + 1, sizeof *v, err, "periods");
    x->per = cs_calloc((size_t)nk + 1, sizeof *x->per, err, "periods");
    rc = x->pcnt && x->pfirst && x->poff && x->prounds && v && x->per ? CS_OK : CS_ENOMEM;
    int64_t *tot = v, *tmin = v + nk, *tmax = v + 2 * nk;
    for (int k = 0; k < nk && rc == CS_OK; k++) {
        tmin[k] = INT64_MAX;
        tmax[k] = INT64_MIN;
    }
    for (int i = 0, k = 0; rc == CS_OK && i < nlp; i++) {
        while (keys[k] != lp[i].key)
            k++;
        x->pcnt[k] = lp[i].count;
        x->pfirst[k] = lp[i].first;
        tot[k] = (int64_t)lp[i].count;
        tmin[k] = x->p.ev[lp[i].first].ts;
        tmax[k] = x->p.ev[lp[i].first + lp[i].count - 1].ts;
    }
    if (comm_agree(c, err) != CS_OK ||
        comm_exscan_u64v(c, x->pcnt, x->poff, (size_t)nk, err) != CS_OK ||
        comm_sum_i64(c, tot, (size_t)nk, 1, err) != CS_OK ||
        comm_min_i64(c, tmin, (size_t)nk, 1, err) != CS_OK ||
        comm_max_i64(c, tmax, (size_t)nk, 1, err) != CS_OK) {
        rc = err->code;
        nk = 0;
    }
    for (int k = 0; k < nk; k++) {
        imp_period *per = &x->per[k];
        per->key = keys[k];
        per->rows = (uint64_t)tot[k];
        per->ts_min = tmin[k];
        per->ts_max = tmax[k];
        char label[32] = "";
        if (x->cfg->import_split != IMPORT_SPLIT_NONE)
            period_label(x->cfg->import_split, keys[k], label, sizeof label);
        snprintf(per->name, sizeof per->name, "events%s%s.h5", label[0] ? "-" : "", label);
    }
    x->nperiods = nk;
    free(lp);
    free(keys);
    free(v);
    return rc;
}

/* Bytes the archive files, dictionaries.h5, rejects.csv and import.json
 * will take, with room to spare (chunks are allocated whole). */
static uint64_t bytes_needed(const imp_ctx *x)
{
    const uint64_t row = 8 + 8 + 1 + 8 + 4 + 4 + 8 + 8, file = 32 << 10;
    uint64_t need = 1 << 20;
    for (int k = 0; k < x->nperiods; k++) {
        uint64_t rows = x->per[k].rows, chunk = rows < (1u << 18) ? rows : 1u << 18;
        need += file + (chunk ? (rows + chunk - 1) / chunk * chunk : 0) * row;
    }
    for (int d = 0; d < DICT_N; d++)
        if (x->dict_sizes[d])
            need += file + (uint64_t)x->dict_sizes[d] *
                    ((imp_dict_is32(d) ? 4 : 8) + (uint64_t)x->dict_kw[d] + (uint64_t)x->dict_lw[d]);
    for (int r = 0; r < x->c->size; r++)
        for (int pass = 0; pass < 2; pass++) {
            char sp[1300];
            struct stat st;
            snprintf(sp, sizeof sp, "%s/.rejects-%d.%s", x->tmp, r, pass ? "dups" : "part");
            if (stat(sp, &st) == 0)
                need += 2 * (uint64_t)st.st_size;   /* quoting and numbers as text */
        }
    return need + need / 20;
}

/* Rank 0: takes the space (fallocate: quotas count) and gives it back at
 * once. Parallel HDF5 1.10 can hang in a collective close when a write
 * fails for want of space, so a full disk must be found before writing. */
static int reserve(const imp_ctx *x, uint64_t need, cs_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/.reserve", x->tmp);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0)
        return cs_err_set(err, CS_EIO, "%s: cannot create: %s", path, strerror(errno));
    int rc = fallocate(fd, 0, 0, (off_t)need) == 0 ? 0 : errno;
    close(fd);
    unlink(path);
    if (rc == EOPNOTSUPP || rc == ENOSYS) {
        struct statvfs sv;
        if (statvfs(x->tmp, &sv) != 0)
            return CS_OK;   /* nothing to tell: let the writes find out */
        rc = (uint64_t)sv.f_bavail * sv.f_frsize < need ? ENOSPC : 0;
    }
    if (rc)
        return cs_err_set(err, CS_EIO, "%s: not enough space for the archive (it needs about "
                          "%.1f MiB): %s", x->final, (double)need / 1048576.0, strerror(rc));
    return CS_OK;
}

int iwrite_reserve(imp_ctx *x, cs_err *err)
{
    if (x->c->rank == 0)
        reserve(x, bytes_needed(x), err);
    return comm_agree(x->c, err);
}

int iwrite_events(imp_ctx *x, cs_err *err)
{
    int rc = iwrite_buffers(x, err);
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    for (int k = 0; k < x->nperiods; k++)
        x->prounds[k] = (int64_t)iwrite_rounds(x, &x->per[k], x->poff[k], x->pcnt[k]);
    if (comm_max_i64(x->c, x->prounds, (size_t)x->nperiods, 1, err) != CS_OK)
        return err->code;
    for (int k = 0; k < x->nperiods; k++) {
        imp_tick(x, (double)k / x->nperiods);
        int r = write_period(x, &x->per[k], x->pfirst[k], x->pcnt[k], x->poff[k],
                             (uint64_t)x->prounds[k], err);
        if (rc == CS_OK)
            rc = r;
    }
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    return comm_sum_i64(x->c, x->type_counts, 8, 1, err);
}

/* ---- rejects ---- */

typedef struct spill_hdr {
    uint64_t line;
    uint32_t dlen, rlen;
    uint16_t file;
    uint8_t reason, global_line;
    uint32_t window;      /* duplicates: the window of the external sort (0 in memory) */
} spill_hdr;

int iwrite_spill(imp_ctx *x, int file, uint64_t line, int global_line, int reason,
                 const char *detail, const char *raw, size_t rawlen, cs_err *err)
{
    /* A huge line (up to 64 MiB) keeps its start only, and says so: a
     * spreadsheet cell holds 32767 characters, and the input has the rest. */
    char more[64] = "";
    size_t keep = rawlen;
    if (rawlen > REJECT_RAW_MAX) {
        keep = REJECT_RAW_MAX;
        snprintf(more, sizeof more, " [... %zu bytes in all]", rawlen);
    }
    size_t mlen = strlen(more);
    spill_hdr h = { line, (uint32_t)strlen(detail), (uint32_t)(keep + mlen), (uint16_t)file,
                    (uint8_t)reason, (uint8_t)global_line, x->spill_window };
    if (fwrite(&h, sizeof h, 1, x->spill) != 1 || fwrite(detail, 1, h.dlen, x->spill) != h.dlen ||
        fwrite(raw, 1, keep, x->spill) != keep || fwrite(more, 1, mlen, x->spill) != mlen)
        return cs_err_set(err, CS_EIO, "%s: cannot write: %s", x->spill_path, strerror(errno));
    return CS_OK;
}

/* Writes s[0..n) as a quoted CSV field. Bytes that are not UTF-8, and
 * NULs, are written as \xNN: rejects.csv stays a UTF-8 text that pandas
 * and spreadsheets read (the input itself holds the original bytes); a
 * field a spreadsheet would run as a formula gets an apostrophe first
 * (csvtext.h). */
static void csv_field(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    if (csv_formula_risk(s, n))
        fputc('\'', out);
    size_t i = 0;
    while (i < n) {
        size_t good = i + tp_utf8_bad(s + i, n - i);
        for (; i < good; i++) {
            if (s[i] == '"')
                fputc('"', out);
            fputc(s[i], out);
        }
        if (i < n)
            fprintf(out, "\\x%02x", (unsigned char)s[i++]);
    }
    fputc('"', out);
}

/* One rank's spill file, read record by record. */
typedef struct spill_in {
    FILE *in;
    const char *path;
    int rank, have;       /* have: h and buf hold the next record */
    spill_hdr h;
    char *buf;
    size_t cap;
} spill_in;

/* Reads the next record into s (s->have = 0 at the end). */
static int spill_next(spill_in *s, cs_err *err)
{
    s->have = 0;
    if (!s->in || fread(&s->h, sizeof s->h, 1, s->in) != 1)
        return CS_OK;
    size_t need = (size_t)s->h.dlen + s->h.rlen + 1;
    if (need > s->cap) {
        char *nb = cs_realloc(s->buf, need, err, "rejects");
        if (!nb)
            return CS_ENOMEM;
        s->buf = nb;
        s->cap = need;
    }
    if (fread(s->buf, 1, need - 1, s->in) != need - 1)
        return cs_err_set(err, CS_EIO, "%s: truncated", s->path);
    s->have = 1;
    return CS_OK;
}

static int spill_open(spill_in *s, const char *path, int rank, cs_err *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->rank = rank;
    if (!(s->in = fopen(path, "rb")) && errno != ENOENT)
        return cs_err_set(err, CS_EIO, "%s: %s", path, strerror(errno));
    return spill_next(s, err);
}

static void spill_close(spill_in *s)
{
    if (s->in) {
        fclose(s->in);
        unlink(s->path);
    }
    free(s->buf);
    s->in = NULL;
    s->buf = NULL;
}

/* Writes s's record as a line of rejects.csv (line numbers of parse
 * rejects become file line numbers) and reads the next. */
static int spill_emit(imp_ctx *x, spill_in *s, FILE *out, cs_err *err)
{
    const spill_hdr *h = &s->h;
    uint64_t line = h->line;
    for (int r = 0; !h->global_line && r < s->rank; r++)
        line += (uint64_t)x->lines[r * x->nfiles + h->file];
    if (!x->first_reject[0])
        snprintf(x->first_reject, sizeof x->first_reject, "%.300s:%" PRIu64 ": %s: %.*s",
                 x->files[h->file].path, line, imp_reason_name(h->reason),
                 (int)(h->dlen > 250 ? 250 : h->dlen), s->buf);
    csv_field(out, x->files[h->file].path, strlen(x->files[h->file].path));
    fprintf(out, ",%" PRIu64 ",%s,", line, imp_reason_name(h->reason));
    csv_field(out, s->buf, h->dlen);
    fputc(',', out);
    csv_field(out, s->buf + h->dlen, h->rlen);
    fputc('\n', out);
    return spill_next(s, err);
}

/* The parse rejects, rank by rank (input order), then the duplicates in
 * the global order: window by window, rank by rank within a window. */
int iwrite_rejects_csv(imp_ctx *x, cs_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/rejects.csv", x->tmp);
    FILE *out = fopen(path, "w");
    if (!out)
        return cs_err_set(err, CS_EIO, "%s: cannot create: %s", path, strerror(errno));
    fputs("file,line,reason,detail,raw\n", out);
    int n = x->c->size, rc = CS_OK;
    spill_in *s = cs_calloc((size_t)n, sizeof *s, err, "rejects");
    char (*sp)[1300] = cs_calloc((size_t)n, sizeof *sp, err, "rejects");
    if (!s || !sp)
        rc = CS_ENOMEM;
    for (int pass = 0; rc == CS_OK && pass < 2; pass++) {
        for (int r = 0; r < n; r++) {
            snprintf(sp[r], sizeof sp[r], "%s/.rejects-%d.%s", x->tmp, r, pass ? "dups" : "part");
            if (rc == CS_OK)
                rc = spill_open(&s[r], sp[r], r, err);
        }
        for (int r = 0; pass == 0 && r < n; r++)
            while (rc == CS_OK && s[r].have)
                rc = spill_emit(x, &s[r], out, err);
        while (rc == CS_OK && pass == 1) {
            uint32_t w = UINT32_MAX;
            for (int r = 0; r < n; r++)
                if (s[r].have && s[r].h.window < w)
                    w = s[r].h.window;
            if (w == UINT32_MAX)
                break;
            for (int r = 0; r < n; r++)
                while (rc == CS_OK && s[r].have && s[r].h.window == w)
                    rc = spill_emit(x, &s[r], out, err);
        }
        for (int r = 0; r < n; r++)
            spill_close(&s[r]);
    }
    free(s);
    free(sp);
    if ((ferror(out) | fclose(out)) && rc == CS_OK)
        rc = cs_err_set(err, CS_EIO, "%s: cannot write: %s", path, strerror(errno));
    return rc;
}
