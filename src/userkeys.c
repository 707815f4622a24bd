/* userkeys.c — target ids back to the source's user text (see userkeys.h). */
#include "clickseg/userkeys.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/h5util.h"

void userkeys_free(char **keys, uint64_t n)
{
    for (uint64_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
}

/* Index of id in the sorted ids[0..n), or n. */
static uint64_t find(const uint64_t *ids, uint64_t n, uint64_t id)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && ids[lo] == id ? lo : n;
}

/* Reads the keys at rows[0..m) of the fixed-length string dataset kd into
 * keys[want[j]] (one read of m points). */
static int read_keys(hid_t kd, const hsize_t *rows, const uint64_t *want, uint64_t m, char **keys,
                     const char *path, cs_err *err)
{
    /* Read with the file's own string type (its padding too): a memory type
     * with NUL termination would cut a key that fills the whole width. */
    hid_t mt = H5Dget_type(kd);
    size_t w = mt >= 0 && H5Tget_class(mt) == H5T_STRING && !H5Tis_variable_str(mt)
                   ? H5Tget_size(mt) : 0;
    char *buf = w ? cs_malloc(m * w + 1, err, "user keys") : NULL;
    if (!buf) {
        if (mt >= 0)
            H5Tclose(mt);
        return w ? CS_ENOMEM : cs_err_set(err, CS_EINPUT, "%s: /dictionaries/user/key is not a "
                                          "fixed-length string dataset", path);
    }
    hid_t fs = H5Dget_space(kd), ms = H5Screate_simple(1, (hsize_t[]){m}, NULL);
    herr_t hr = H5Sselect_elements(fs, H5S_SELECT_SET, m, rows);
    if (hr >= 0)
        hr = H5Dread(kd, mt, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(mt);
    int rc = hr < 0 ? h5_fail(err, CS_EINPUT, "%s: cannot read /dictionaries/user/key", path)
                    : CS_OK;
    for (uint64_t j = 0; rc == CS_OK && j < m; j++) {
        const char *k = buf + j * w;
        size_t len = strnlen(k, w);
        char *s = cs_malloc(len + 1, err, "user key");
        if (!s) {
            rc = CS_ENOMEM;
            break;
        }
        memcpy(s, k, len);
        s[len] = '\0';
        free(keys[want[j]]);
        keys[want[j]] = s;
    }
    free(buf);
    return rc;
}

static int lookup(hid_t f, const char *path, const uint64_t *ids, uint64_t n, char **keys,
                  cs_err *err)
{
    hid_t idd = H5Dopen2(f, "/dictionaries/user/id", H5P_DEFAULT);
    hid_t kd = idd >= 0 ? H5Dopen2(f, "/dictionaries/user/key", H5P_DEFAULT) : -1;
    if (kd < 0) {
        if (idd >= 0)
            H5Dclose(idd);
        return h5_fail(err, CS_EINPUT, "%s: /dictionaries/user lacks its id or key dataset", path);
    }
    /* Both 1-D and as long: the keys are read at the ids' rows, one
     * coordinate each (a 2-D key dataset took two from every one). */
    uint64_t nd = 0, nk = 0;
    int shaped = h5_dataset_rows(idd, &nd) == 0 && h5_dataset_rows(kd, &nk) == 0;
    if (!shaped || nk != nd) {
        H5Dclose(kd);
        H5Dclose(idd);
        return shaped ? cs_err_set(err, CS_EINPUT, "%s: /dictionaries/user has %llu ids and "
                                   "%llu keys", path, (unsigned long long)nd,
                                   (unsigned long long)nk)
                      : h5_fail(err, CS_EINPUT, "%s: /dictionaries/user", path);
    }
    uint64_t *dict = cs_malloc(nd * sizeof *dict + 1, err, "user dictionary ids");
    hsize_t *rows = dict ? cs_malloc(n * sizeof *rows + 1, err, "user keys") : NULL;
    uint64_t *want = rows ? cs_malloc(n * sizeof *want + 1, err, "user keys") : NULL;
    int rc = want ? CS_OK : CS_ENOMEM;
    if (rc == CS_OK && nd &&
        H5Dread(idd, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, dict) < 0)
        rc = h5_fail(err, CS_EINPUT, "%s: cannot read /dictionaries/user/id", path);
    uint64_t m = 0;
    for (uint64_t i = 0; rc == CS_OK && i < n; i++) {
        uint64_t at = find(dict, nd, ids[i]);
        if (at < nd) {
            rows[m] = at;
            want[m++] = i;
        }
    }
    if (rc == CS_OK && m)
        rc = read_keys(kd, rows, want, m, keys, path, err);
    free(dict);
    free(rows);
    free(want);
    H5Dclose(kd);
    H5Dclose(idd);
    return rc;
}

int userkeys_lookup(const char *dict_path, const uint64_t *ids, uint64_t n, char ***keys,
                    cs_err *err)
{
    *keys = NULL;
    hid_t f = H5Fopen(dict_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open", dict_path);
    int rc = CS_OK;
    if (H5Lexists(f, "/dictionaries", H5P_DEFAULT) > 0 &&
        H5Lexists(f, "/dictionaries/user", H5P_DEFAULT) > 0) {
        char **k = cs_calloc(n + 1, sizeof *k, err, "user keys");
        rc = k ? CS_OK : CS_ENOMEM;
        for (uint64_t i = 0; rc == CS_OK && i < n; i++)
            if (!(k[i] = cs_calloc(1, 1, err, "user key")))
                rc = CS_ENOMEM;
        if (rc == CS_OK)
            rc = lookup(f, dict_path, ids, n, k, err);
        if (rc == CS_OK)
            *keys = k;
        else
            userkeys_free(k, n);
    }
    H5Eclear2(H5E_DEFAULT);
    H5Fclose(f);
    return rc;
}

/* 1 when every id of ids[0..m) that a dictionary can know has its key in
 * keys: import hashes text to ids with the top bit set (dict_hash) and
 * keeps a number below 2^63 as the id itself, with no key anywhere. */
static int all_found(const uint64_t *ids, char *const *keys, uint64_t m)
{
    for (uint64_t i = 0; i < m; i++)
        if ((ids[i] >> 63) && (!keys[i] || !keys[i][0]))
            return 0;
    return 1;
}

/* Notes dictionary path as skipped in *skip unless one is already. */
static void skipped(cs_dict_skip *skip, const char *path, int gone, const char *cause)
{
    if (skip->path[0])
        return;
    snprintf(skip->path, sizeof skip->path, "%s", path);
    skip->gone = gone;
    snprintf(skip->cause, sizeof skip->cause, "%s", cause);
}

int userkeys_for_ranking(cs_ranking *r, const char *const *dicts, int n, cs_dict_skip *skip,
                         cs_err *err)
{
    uint64_t m = r->ntargets + r->nprospects;
    memset(skip, 0, sizeof *skip);
    uint64_t *ids = cs_malloc((m + 1) * sizeof *ids, err, "target ids");
    char **keys = cs_calloc(m + 1, sizeof *keys, err, "target keys");
    int rc = ids && keys ? CS_OK : CS_ENOMEM, found = 0;
    for (uint64_t i = 0; rc == CS_OK && i < r->ntargets; i++)
        ids[i] = r->targets[i].user_id;
    for (uint64_t i = 0; rc == CS_OK && i < r->nprospects; i++)
        ids[r->ntargets + i] = r->prospects[i].user_id;
    for (int d = 0; rc == CS_OK && d < n && !(found && all_found(ids, keys, m)); d++) {
        if (access(dicts[d], R_OK) != 0) {
            skipped(skip, dicts[d], 1, "");
            continue;
        }
        char **got = NULL;
        cs_err bad;
        cs_err_clear(&bad);
        rc = userkeys_lookup(dicts[d], ids, m, &got, &bad);
        if (rc == CS_ENOMEM) {
            *err = bad;
            break;
        }
        if (rc != CS_OK) {
            skipped(skip, dicts[d], 0, bad.msg);
            rc = CS_OK;
            continue;
        }
        for (uint64_t i = 0; got && i < m; i++)
            if ((!keys[i] || !keys[i][0]) && got[i][0]) {
                free(keys[i]);
                keys[i] = got[i];
                got[i] = NULL;
            }
        found |= got != NULL;
        userkeys_free(got, m);
    }
    /* One lookup, two lists: the prospects' keys are the tail; an id
     * without a key in any dictionary (a number in the source) gets "". */
    for (uint64_t i = 0; rc == CS_OK && found && i < m; i++)
        if (!keys[i] && !(keys[i] = calloc(1, 1)))
            rc = cs_err_set(err, CS_ENOMEM, "out of memory for the target keys");
    if (rc == CS_OK && found) {
        r->target_keys = cs_calloc(r->ntargets + 1, sizeof *r->target_keys, err, "target keys");
        r->prospect_keys = cs_calloc(r->nprospects + 1, sizeof *r->prospect_keys, err,
                                     "target keys");
        if (!r->target_keys || !r->prospect_keys)
            rc = CS_ENOMEM;
    }
    if (rc == CS_OK && found) {
        memcpy(r->target_keys, keys, r->ntargets * sizeof *keys);
        memcpy(r->prospect_keys, keys + r->ntargets, r->nprospects * sizeof *keys);
        free(keys);
    } else {
        userkeys_free(keys, m);
    }
    free(ids);
    return rc;
}
