"""The import part of the bad-input corpus: text files for `clickseg import`
(tests/corpus/cases.txt, section "import"), imported by make_corpus.py.

Each maker writes its input files into the case directory and, for cases
whose bad rows are rejected, expected.json: {"rows": N, "rejects":
{"FILE:LINE": "reason", ...}} with the line of every planted bad row, which
tests/corpus/check_import.py compares with import.json and rejects.csv.
The good rows are generated (600 rows, fixed seed); the settings are
tests/corpus/import.cfg (columns ts,user_id,event_type,product_id,price).
"""

import gzip
import json
import os
import random

HEADER = b"ts,user_id,event_type,product_id,price"
TYPES = [b"page_view", b"product_view", b"add_to_cart", b"purchase"]


def good_rows(n=600, seed=7):
    r = random.Random(seed)
    return [b"2019-10-%02dT%02d:%02d:%02dZ,%d,%s,%d,%d.%02d" % (
        1 + i % 28, i % 24, i % 60, (7 * i) % 60, r.randint(1, 300), r.choice(TYPES),
        r.randint(1, 50), r.randint(0, 99), r.randint(0, 99)) for i in range(n)]


def planted(d, name, bad, rows=None, header=HEADER, eol=b"\n", final_eol=True, extra=0):
    """Writes header + good rows with bad[i] = (index among rows, line bytes,
    reason or None for a row that is fine) inserted; returns the lines.
    Records expected.json (rows counts every non-blank line but the header)."""
    lines = list(rows if rows is not None else good_rows())
    for at, text, _ in sorted(bad, key=lambda b: b[0], reverse=True):
        lines.insert(at, text)
    all_lines = ([header] if header is not None else []) + lines
    body = eol.join(all_lines) + (eol if final_eol else b"")
    with open(os.path.join(d, name), "wb") as f:
        f.write(body)
    first = 2 if header is not None else 1
    rejects = {}
    for at, text, reason in bad:
        if reason:
            rejects["%s:%d" % (name, first + lines.index(text))] = reason
    nrows = sum(1 for ln in lines if ln.strip(b" \t\r")) + extra
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"rows": nrows, "rejects": rejects}, f, indent=1)
    return all_lines


T = b"2019-10-05T10:00:00Z"


def csv_bad_quotes(base, d):
    planted(d, "q.csv", [
        (0, T + b',"7,page_view,1,2.00', "bad_quotes"),             # never closed
        (100, T + b',"7"x,page_view,1,2.00', "bad_quotes"),         # text after the closing quote
        (250, T + b',7,page_view,1,"2.00', "bad_quotes"),           # open to the line end
        (300, T + b',7,"page', "bad_quotes"),                       # a quoted line break: two
        (301, b'view",1,2.00', "field_count"),                      # broken lines
        (400, b'"' + T + b'","8","page_view","1","2.50"', None),    # quoted fields are fine
        (401, T + b',"a ""quoted"" user",page_view,1,2.50', None),  # and "" inside them
        (599, T + b',7,page_view,1,2.00"', "bad_price"),            # a quote inside a field: text
    ])


def csv_bad_numbers(base, d):
    planted(d, "n.csv", [(at, T + b",7,purchase,1," + p, "bad_price") for at, p in [
        (3, b'"12,50"'), (50, b"1e3"), (120, b"abc"), (200, b"--5"),
        (300, b"99999999999999999999.99"), (400, b"12.5.1"), (500, b"0x1F"), (590, b"$3.50"),
        (595, b"-5.00"), (597, b"-0.01")]])   # amounts are positive: a refund is its own type


def csv_field_count(base, d):
    planted(d, "fc.csv", [
        (1, T + b",7,page_view,1", "field_count"),
        (60, T + b",7,page_view,1,2.00,extra", "field_count"),
        (200, b"garbage", "field_count"),
        (300, T + b",7,page_view,1,2.00,", "field_count"),
        (400, b",,,,", "bad_time"),
        (500, b",".join([b"x"] * 300), "field_count"),              # over 256 fields
    ])


def csv_bad_time(base, d):
    planted(d, "t.csv", [(at, t + b",7,page_view,1,2.00", "bad_time") for at, t in [
        (2, b"2019-02-30T00:00:00Z"), (90, b"yesterday"), (180, b""),
        (270, b"1969-12-31T23:59:59Z"), (360, b"2019-10-01T25:00:00Z"), (450, b"1570000000"),
        (540, b"10000-01-01T00:00:00Z"), (599, b"2019-10-01T10:00:00+25:00")]])


def csv_bad_fields(base, d):
    planted(d, "f.csv", [
        (5, T + b",,page_view,1,2.00", "bad_user"),
        (100, T + b"," + b"u" * 300 + b",page_view,1,2.00", "bad_user"),
        (200, T + b",7,wishlist,1,2.00", "unknown_event"),
        (300, T + b",7,,1,2.00", "unknown_event"),
        (400, T + b",7,page_view," + b"p" * 256 + b",2.00", "bad_product"),
        (500, T + b",7,8,1,2.00", "unknown_event"),                 # codes are 0..7
        (510, T + b",7,7,1,2.00", None),                            # refund, by its code
    ])


def csv_bad_encoding(base, d):
    planted(d, "e.csv", [
        (4, T + b",\xff\xfeuser,page_view,1,2.00", "bad_encoding"),  # not UTF-8
        (70, T + b",M\xfcller,page_view,1,2.00", "bad_encoding"),   # Latin-1
        (140, T + b",u\x00x,page_view,1,2.00", "bad_encoding"),     # a NUL in an id
        (210, T + b",7,page_view,\xc0\xaf,2.00", "bad_encoding"),   # an overlong form
        (280, T + b",\xed\xa0\x80,page_view,1,2.00", "bad_encoding"),  # a surrogate
        (350, T + b",7,page_view\xc3,1,2.00", "unknown_event"),    # cut sequence in a name
        (420, T[:4] + b"\x00" + T[5:] + b",7,page_view,1,2.00", "bad_time"),
        (490, T + b",7,page_view,1,2.0\x00", "bad_price"),
        (500, T + b",M\xc3\xbcller,page_view,1,2.00", None),        # UTF-8 is fine
        (501, T + b",\xf0\x9f\x98\x80,page_view,1,2.00", None),    # U+1F600 too
    ])


def csv_crlf_bom(base, d):
    """A UTF-8 byte-order mark, CRLF and LF line ends mixed, one \\r\\r\\n."""
    rows = good_rows()
    rows = [r + b"\r" if i % 3 == 0 else r for i, r in enumerate(rows)]
    rows[100] = rows[100].rstrip(b"\r") + b"\r\r"
    lines = planted(d, "crlf.csv", [], rows=rows, header=b"\xef\xbb\xbf" + HEADER + b"\r")
    exp = json.load(open(os.path.join(d, "expected.json")))
    exp["rejects"] = {"crlf.csv:%d" % (lines.index(rows[100]) + 1): "bad_price"}
    json.dump(exp, open(os.path.join(d, "expected.json"), "w"))


def csv_blank_no_final_newline(base, d):
    planted(d, "b.csv", [(10, b"", None), (11, b"   ", None), (300, b"\t", None),
                         (301, b"", None)], final_eol=False)


def csv_header_repeated(base, d):
    """Two files concatenated: the second header is a row with a bad time."""
    planted(d, "cat.csv", [(300, HEADER, "bad_time")])


def csv_huge_line(base, d):
    """A 5 MB line across the ranks' byte ranges, a 300 KB one of many fields."""
    planted(d, "h.csv", [(200, T + b"," + b"u" * (5 << 20) + b",page_view,1,2.00", "bad_user"),
                         (400, b"x," * 150000 + b"x", "field_count")])


def csv_line_too_long(base, d):
    rows = good_rows()
    with open(os.path.join(d, "long.csv"), "wb") as f:
        f.write(HEADER + b"\n" + b"\n".join(rows[:300]) + b"\n")
        f.write(T + b"," + b"u" * (65 << 20) + b",page_view,1,2.00\n")
        f.write(b"\n".join(rows[300:]) + b"\n")


def csv_empty(base, d):
    open(os.path.join(d, "empty.csv"), "wb").close()


def csv_header_only(base, d):
    with open(os.path.join(d, "header.csv"), "wb") as f:
        f.write(HEADER + b"\n\n")


def csv_no_newline_at_all(base, d):
    with open(os.path.join(d, "one.csv"), "wb") as f:
        f.write(b"x" * (3 << 20))


def csv_utf16_bom(base, d):
    text = b"\n".join([HEADER] + good_rows()[:50]) + b"\n"
    with open(os.path.join(d, "u16.csv"), "wb") as f:
        f.write(text.decode().encode("utf-16"))


def csv_utf16_no_bom(base, d):
    text = b"\n".join([HEADER] + good_rows()[:50]) + b"\n"
    with open(os.path.join(d, "u16.csv"), "wb") as f:
        f.write(text.decode().encode("utf-16-le"))


def csv_cr_only(base, d):
    with open(os.path.join(d, "mac.csv"), "wb") as f:
        f.write(b"\r".join([HEADER] + good_rows()) + b"\r")


def _gz(d, name):
    body = b"\n".join([HEADER] + good_rows(3000)) + b"\n"
    data = gzip.compress(body, mtime=0)
    return os.path.join(d, name), data


def csv_gzip_truncated(base, d):
    p, data = _gz(d, "cut.csv.gz")
    open(p, "wb").write(data[:len(data) // 2])


def csv_gzip_corrupt(base, d):
    p, data = _gz(d, "bad.csv.gz")
    mid = len(data) // 2
    open(p, "wb").write(data[:mid] + b"garbage!garbage!" + data[mid + 16:])


def csv_gzip_crc(base, d):
    """Intact deflate data, a wrong CRC-32 in the trailer."""
    p, data = _gz(d, "crc.csv.gz")
    open(p, "wb").write(data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:])


def csv_missing_column(base, d):
    planted(d, "m.csv", [])


def csv_too_many_rejects(base, d):
    planted(d, "many.csv", [])


def otto_bad_json(base, d):
    r = random.Random(3)
    rows = [b'{"session":%d,"events":[{"aid":%d,"ts":%d,"type":"clicks"}]}' % (
        i, r.randint(1, 9999), 1661724000000 + i * 1000) for i in range(600)]
    planted(d, "o.jsonl", [
        (3, b'{"session":9001,"events":[{"aid":1,"ts":1661724000000,"type":"clicks"}', "bad_json"),
        (80, b'{"session":9002,"events":[{"aid":1,"ts":1661724000000,"type":"views"}]}',
         "unknown_event"),
        (160, b'{"session":9003,"events":[{"aid":"x","ts":1661724000000,"type":"clicks"}]}',
         "bad_json"),
        (240, b'{"session":9004,"events":[{"aid":1,"ts":99999999999999999,"type":"clicks"}]}',
         "bad_time"),
        (320, b'{"events":[]}', "bad_user"),
        (400, b'[1,2,3]', "bad_json"),
        (480, b'{"session":9005,"events":[]}', None),
    ], rows=rows, header=None)


def rees46_wrong_columns(base, d):
    hdr = (b"event_time,event_type,product_id,category_id,category_code,brand,price,"
           b"user_id,user_session")
    rows = [b"2019-10-01 00:%02d:%02d UTC,view,%d,2053013552326770905,appliances.kitchen,"
            b"acme,%d.99,%d,72d76fde-8bb3-4e00-8c23-a032dfed738c" % (i // 60 % 60, i % 60,
            1000 + i, i % 90, 500 + i % 40) for i in range(600)]
    planted(d, "r.csv", [
        (10, b"2019-10-01 00:00:00 UTC,view,1,2,x,acme,1.00,5", "field_count"),
        (300, b"2019-10-01 00:00:00 UTC,view,1,2,x,acme,1.00,5,s,extra", "field_count"),
        (450, b"2019-10-01 00:00:00 UTC,wishlist,1,2,x,acme,1.00,5,s", "unknown_event"),
    ], rows=rows, header=hdr)


MAKERS = [v for k, v in sorted(globals().items()) if callable(v) and
          (k.startswith("csv_") or k.startswith("otto_") or k.startswith("rees46_"))]
