#!/usr/bin/python3
"""Makes the bad-input corpus from a small good archive.

Usage: make_corpus.py GOOD_ARCHIVE_DIR OUT_DIR

GOOD_ARCHIVE_DIR is what `clickseg generate` wrote (events-0000..0002.h5 and
profiles.h5). For every case of tests/corpus/cases.txt that needs files, the
function of the same name below makes them in OUT_DIR/<case>/ (created for
every case, empty when the case needs nothing): truncated copies, flipped
bytes found with h5py's chunk index, files rewritten with h5py with one
thing wrong, links, pipes, directories. Nothing here is a stored binary:
the corpus is rebuilt from the good archive on every test run.
"""

import os
import shutil
import sys

import h5py
import numpy as np

import import_cases

EVENT_TYPES = ["page_view", "product_view", "search", "add_to_cart",
               "remove_from_cart", "checkout", "purchase", "refund"]
TS_MAX = 253402300799999999          # 9999-12-31T23:59:59.999999Z, clickseg's bound

MAKERS = {}


def case(fn):
    MAKERS[fn.__name__.replace("_", "-")] = fn
    return fn


def columns(path):
    """The /events columns of a file, as numpy arrays (event_type as uint8)."""
    with h5py.File(path, "r") as f:
        g = f["events"]
        cols = {k: g[k][:] for k in g}
    cols["event_type"] = cols["event_type"].astype(np.uint8)
    return cols


def write(path, cols, types=None, enum=False, **kw):
    """Writes /events with plain h5py; `types` overrides column dtypes."""
    types = types or {}
    with h5py.File(path, "w") as f:
        g = f.create_group("events")
        for k, v in cols.items():
            if k == "event_type" and enum:
                dt = h5py.enum_dtype({n: i for i, n in enumerate(EVENT_TYPES)}, basetype="u1")
                g.create_dataset(k, data=np.asarray(v, np.uint8), dtype=dt, **kw)
            else:
                g.create_dataset(k, data=np.asarray(v, types.get(k, np.asarray(v).dtype)), **kw)


def copy_archive(base, d, names=("events-0000.h5", "events-0001.h5", "events-0002.h5")):
    for n in names:
        shutil.copy(os.path.join(base, n), os.path.join(d, n))


def flip(path, offset, mask=0x10):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ mask]))


def chunk_middle(path, dataset, index=0):
    """Byte offset of the middle of a dataset's chunk (h5py's chunk index)."""
    with h5py.File(path, "r") as f:
        info = f[dataset].id.get_chunk_info(index)
    return info.byte_offset + info.size // 2


# ---------------------------------------------------------------- damaged HDF5

@case
def h5_truncated_half(base, d):
    copy_archive(base, d)
    p = os.path.join(d, "events-0001.h5")
    os.truncate(p, os.path.getsize(p) // 2)


@case
def inspect_truncated(base, d):
    h5_truncated_half(base, d)


@case
def h5_truncated_header(base, d):
    copy_archive(base, d)
    os.truncate(os.path.join(d, "events-0001.h5"), 1000)


@case
def h5_truncated_zero(base, d):
    copy_archive(base, d)
    os.truncate(os.path.join(d, "events-0001.h5"), 0)


@case
def h5_flip_ts_chunk(base, d):
    """The last file's ts: with 3 ranks, rank 2 reads that chunk."""
    copy_archive(base, d)
    p = os.path.join(d, "events-0002.h5")
    flip(p, chunk_middle(p, "events/ts"))


@case
def h5_flip_user_chunk(base, d):
    """The last file's user_id (its ts is fine, so planning passes): with 3
    ranks the reading rank is not rank 0, and the error must still reach all."""
    copy_archive(base, d)
    p = os.path.join(d, "events-0002.h5")
    flip(p, chunk_middle(p, "events/user_id"))


@case
def h5_flip_gzip_chunk(base, d):
    """A third-party file: gzip chunks (deflate's own checksum catches it)."""
    cols = columns(os.path.join(base, "events-0000.h5"))
    p = os.path.join(d, "gz.h5")
    write(p, cols, chunks=(500,), compression="gzip")
    flip(p, chunk_middle(p, "events/event_type", 1))


@case
def h5_inspect_flip(base, d):
    h5_flip_user_chunk(base, d)


@case
def h5_superblock_signature(base, d):
    copy_archive(base, d)
    flip(os.path.join(d, "events-0001.h5"), 3, 0xFF)


@case
def h5_superblock_version(base, d):
    copy_archive(base, d)
    p = os.path.join(d, "events-0001.h5")
    with open(p, "r+b") as f:          # byte 8: superblock version (0..3 exist)
        f.seek(8)
        f.write(bytes([9]))


@case
def h5_superblock_root(base, d):
    """Superblock v0: the root group's object header address (bytes 64..71)
    points past the end of the file."""
    copy_archive(base, d)
    p = os.path.join(d, "events-0001.h5")
    with open(p, "rb") as f:
        assert f.read(9)[8] == 0, "expected a version 0 superblock"
    with open(p, "r+b") as f:
        f.seek(64)
        f.write((10**9).to_bytes(8, "little"))


@case
def not_hdf5_text(base, d):
    with open(os.path.join(d, "events.h5"), "w") as f:
        f.write("ts,user_id,event_type\n1700000000000000,1,page_view\n")


@case
def not_hdf5_binary(base, d):
    rng = np.random.default_rng(3)
    with open(os.path.join(d, "events.h5"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 4000, np.uint8).tobytes())


# ---------------------------------------------------------------- wrong schema

@case
def no_events_group(base, d):
    with h5py.File(os.path.join(d, "logs.h5"), "w") as f:
        f.create_dataset("logs/ts", data=np.arange(10, dtype=np.int64))


@case
def events_not_group(base, d):
    with h5py.File(os.path.join(d, "flat.h5"), "w") as f:
        f.create_dataset("events", data=np.arange(10, dtype=np.int64))


@case
def missing_user_id(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    del cols["user_id"]
    write(os.path.join(d, "a.h5"), cols)


@case
def unequal_lengths(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    cols["event_type"] = cols["event_type"][:-1]
    write(os.path.join(d, "a.h5"), cols)


@case
def ts_float(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    write(os.path.join(d, "a.h5"), cols, {"ts": np.float64})


@case
def user_id_string(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    cols["user_id"] = np.array([b"u%d" % u for u in cols["user_id"]], "S24")
    write(os.path.join(d, "a.h5"), cols)


@case
def event_type_2d(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    n = len(cols["ts"]) // 2 * 2
    cols = {k: v[:n] for k, v in cols.items()}
    cols["event_type"] = cols["event_type"].reshape(n // 2, 2)
    write(os.path.join(d, "a.h5"), cols)


@case
def price_float(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    write(os.path.join(d, "a.h5"), cols, {"price": np.float32})


@case
def enum_unknown_member(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    p = os.path.join(d, "a.h5")
    dt = h5py.enum_dtype(dict({n: i for i, n in enumerate(EVENT_TYPES)}, teleport=8),
                         basetype="u1")
    write(p, {k: v for k, v in cols.items() if k != "event_type"})
    with h5py.File(p, "a") as f:
        f["events"].create_dataset("event_type", data=cols["event_type"], dtype=dt)


# ---------------------------------------------------------------- rejected rows



@case
def ts_negative(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    idx = [5, 6, 100, 900]
    cols["ts"][idx] = [-1, -10**12, -(2**63), -3600 * 10**6]
    write(os.path.join(d, "a.h5"), cols)


@case
def ts_absurd(base, d):
    """After 9999-12-31 (ns stored as us, INT64_MAX, the bound + 1) in the
    middle; the very bound itself on the last row, which is used."""
    cols = columns(os.path.join(base, "events-0000.h5"))
    cols["ts"][[10, 500, 700]] = [1_700_000_000_000_000_000, 2**63 - 1, TS_MAX + 1]
    cols["ts"][-1] = TS_MAX
    write(os.path.join(d, "a.h5"), cols)


@case
def inspect_ts_absurd(base, d):
    ts_absurd(base, d)


@case
def type_unknown(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    cols["event_type"][[3, 4, 50, 51, 52]] = [8, 9, 255, 100, 8]
    write(os.path.join(d, "a.h5"), cols)


@case
def type_unknown_int64(base, d):
    """int64 event types: -1 and 300 do not fit uint8 either; still rejected."""
    cols = columns(os.path.join(base, "events-0000.h5"))
    et = cols["event_type"].astype(np.int64)
    et[[1, 2, 3]] = [-1, 300, 8]
    cols["event_type"] = et
    write(os.path.join(d, "a.h5"), cols, {"event_type": np.int64})


def ns_rows(base, d):
    """600 rows, 12 of them (2%) with ts in nanoseconds: over the default
    max_reject_share (1%), under 5%."""
    cols = {k: v[:600] for k, v in columns(os.path.join(base, "events-0000.h5")).items()}
    idx = [0, 1, 2, 50, 100, 200, 300, 400, 500, 597, 598, 599]
    cols["ts"][idx] = cols["ts"][idx] * 1000
    write(os.path.join(d, "a.h5"), cols)


@case
def too_many_rejects(base, d):
    ns_rows(base, d)


@case
def too_many_rejects_windows(base, d):
    ns_rows(base, d)


@case
def too_many_rejects_raised(base, d):
    ns_rows(base, d)


@case
def inspect_too_many_rejects(base, d):
    ns_rows(base, d)


def with_attrs(base, d, **attrs):
    copy_archive(base, d, names=("events-0000.h5",))
    with h5py.File(os.path.join(d, "events-0000.h5"), "a") as f:
        for k, v in attrs.items():
            f["events"].attrs[k] = v


@case
def attr_ts_unit_ms(base, d):
    with_attrs(base, d, ts_unit="milliseconds since 1970-01-01T00:00:00Z")


@case
def attr_ts_unit_us(base, d):
    """Another spelling of microseconds is no problem."""
    with_attrs(base, d, ts_unit="us")


@case
def attr_version_2(base, d):
    with_attrs(base, d, version=2)


@case
def attr_currency_name(base, d):
    with_attrs(base, d, currency="euro")


# ---------------------------------------------------------------- ids that do not fit

@case
def user_id_negative(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    u = cols["user_id"].astype(np.int64)
    u[77] = -5
    cols["user_id"] = u
    write(os.path.join(d, "a.h5"), cols)


@case
def category_overflow(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    c = cols["category_id"].astype(np.int64)
    c[123] = 2**40
    cols["category_id"] = c
    write(os.path.join(d, "a.h5"), cols)


@case
def category_overflow_unread(base, d):
    # The same file, for a job that reads no category ids (docs/run.md).
    category_overflow(base, d)


@case
def ts_uint64_huge(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    t = cols["ts"].astype(np.uint64)
    t[-1] = 2**63 + 5
    cols["ts"] = t
    write(os.path.join(d, "a.h5"), cols)


# ---------------------------------------------------------------- file sets

@case
def zero_rows(base, d):
    cols = columns(os.path.join(base, "events-0000.h5"))
    for n in ("a.h5", "b.h5"):
        write(os.path.join(d, n), {k: v[:0] for k, v in cols.items()}, maxshape=(None,))


@case
def dup_symlink(base, d):
    copy_archive(base, d, ("events-0000.h5",))
    os.symlink("events-0000.h5", os.path.join(d, "again.h5"))


@case
def dup_hardlink(base, d):
    copy_archive(base, d, ("events-0000.h5",))
    os.link(os.path.join(d, "events-0000.h5"), os.path.join(d, "again.h5"))


@case
def dup_copy(base, d):
    copy_archive(base, d, ("events-0000.h5", "events-0001.h5"))
    shutil.copy(os.path.join(d, "events-0001.h5"), os.path.join(d, "copy-of-0001.h5"))


@case
def dir_empty(base, d):
    os.mkdir(os.path.join(d, "empty"))


@case
def dir_no_h5(base, d):
    os.mkdir(os.path.join(d, "logs"))
    for n in ("notes.txt", "events.csv", "events.hdf5"):
        with open(os.path.join(d, "logs", n), "w") as f:
            f.write("x\n")


@case
def path_through_file(base, d):
    copy_archive(base, d, ("events-0000.h5",))


@case
def dangling_symlink(base, d):
    os.mkdir(os.path.join(d, "arch"))
    copy_archive(base, os.path.join(d, "arch"), ("events-0000.h5",))
    os.symlink("/nonexistent/events-0001.h5", os.path.join(d, "arch", "events-0001.h5"))


@case
def named_pipe(base, d):
    """A pipe named like an archive file: opening it would wait for a writer."""
    os.mkdir(os.path.join(d, "arch"))
    copy_archive(base, os.path.join(d, "arch"), ("events-0000.h5",))
    os.mkfifo(os.path.join(d, "arch", "events-0001.h5"))


@case
def subdir_named_h5(base, d):
    os.mkdir(os.path.join(d, "arch"))
    copy_archive(base, os.path.join(d, "arch"), ("events-0000.h5",))
    os.mkdir(os.path.join(d, "arch", "more.h5"))


@case
def profiles_only(base, d):
    copy_archive(base, d, ("profiles.h5",))


# Root reads any file whatever its mode: these run as user nobody.
@case
def perm_file(base, d):
    copy_archive(base, d)
    os.chmod(os.path.join(d, "events-0001.h5"), 0)


@case
def perm_dir(base, d):
    os.mkdir(os.path.join(d, "arch"))
    copy_archive(base, os.path.join(d, "arch"))
    os.chmod(os.path.join(d, "arch"), 0)


@case
def perm_config(base, d):
    with open(os.path.join(d, "job.cfg"), "w") as f:
        f.write("session: { gap = 600; };\n")
    os.chmod(os.path.join(d, "job.cfg"), 0)


@case
def perm_output(base, d):
    os.mkdir(os.path.join(d, "ro"), 0o555)
    os.chmod(os.path.join(d, "ro"), 0o555)


# ---------------------------------------------------------------- outputs

@case
def out_exists(base, d):
    os.mkdir(os.path.join(d, "out"))
    with open(os.path.join(d, "out", "report.json"), "w") as f:
        f.write('{"an earlier report": true}\n')


@case
def out_is_file(base, d):
    with open(os.path.join(d, "out"), "w") as f:
        f.write("a file where the output directory should go\n")


@case
def out_cannot_create(base, d):
    out_is_file(base, d)


@case
def gen_exists(base, d):
    copy_archive(base, d, ("events-0000.h5",))


@case
def gen_out_is_file(base, d):
    out_is_file(base, d)


@case
def config_is_dir(base, d):
    os.mkdir(os.path.join(d, "job.cfg"))


for _fn in import_cases.MAKERS:     # the text inputs of `clickseg import`
    case(_fn)


def main(argv):
    base, out = argv[1], argv[2]
    names = [line.split(" | ")[0].strip() for line in open(argv[3])
             if line.strip() and not line.startswith("#")] if len(argv) > 3 else list(MAKERS)
    missing = [n for n in MAKERS if n not in names]
    if missing:
        sys.exit("make_corpus: makers without a case in the table: %s" % ", ".join(missing))
    for n in names:
        d = os.path.join(out, n)
        os.makedirs(d)
        if n in MAKERS:
            MAKERS[n](base, d)
    print("make_corpus: %d cases, %d with files" % (len(names), len(MAKERS)))


if __name__ == "__main__":
    main(sys.argv)
