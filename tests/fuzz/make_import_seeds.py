#!/usr/bin/python3
"""Writes the seed corpus of fuzz_import into OUT_DIR.

Usage: make_import_seeds.py OUT_DIR [SHARED_DATA_DIR]

A seed is fuzz_import's mode byte (format in bits 0-2, gzip bit 3, ranks
bits 4-5, csv settings bits 6-7; see fuzz_import.c) and a file: the first
lines of each public sample in SHARED_DATA_DIR (when there), and handmade
files for the formats without a sample and for the four csv settings, with
the troubles the corpus has (quotes, CRLF, a byte-order mark, bad numbers
and times, wrong field counts, invalid UTF-8, NUL bytes).
"""
import os
import sys

FORMATS = ["rees46", "retailrocket", "yoochoose", "otto", "diginetica", "ga", "csv"]
SAMPLES = {
    "rees46": "rees46/2019-Oct-sample_sidatKSTX.csv",
    "yoochoose": "yoochoose/yoochoose-clicks-100k_test.txt",
    "otto": "otto/train_head.jsonl",
    "diginetica": "diginetica/sample_train-item-views.csv",
    "ga": "google_merch_store_ga/all_sessions.csv",
}

HANDMADE = {
    ("retailrocket", 0): b"timestamp,visitorid,event,itemid,transactionid\n"
                         b"1433221332117,257597,view,355908,\n"
                         b"1433224214164,992329,addtocart,248676,\n"
                         b"1433221999827,111016,transaction,318965,4000\n"
                         b"1433221999827,-5,view,1,\n1e12,1,view,1,\n",
    ("yoochoose", 0): b"1,2014-04-07T10:51:09.277Z,214536502,0\n"
                      b"2,2014-04-07T13:56:37.614Z,214662742,S\n"
                      b"3,2014-04-02T13:17:46.940Z,214716935,2053013553\n"
                      b"4,2014-04-31T00:00:00.000Z,1,0\n",
    ("yoochoose", 1): b"420374,2014-04-06T18:44:58.314Z,214537888,12462,1\n"
                      b"420374,2014-04-06T18:44:58.325Z,214537850,10471,-1\n",
    ("otto", 0): b'{"session":1,"events":[]}\n{"events":[{"type":"orders","aid":5,"ts":1}],'
                 b'"session":2,"x":[1,{"y":null}]}\n{"session":3,"events":[{"aid":1,"ts":-1,'
                 b'"type":"clicks"}]}\n{"session":"4"}\n{"session":5,"events":[{"aid":1,"ts":'
                 b'99999999999999999999,"type":"clicks"}]}\n',
    ("csv", 0): b"\xef\xbb\xbfts,user_id,event_type,product_id,price\r\n"
                b"2019-10-01T00:00:00Z,1,product_view,10,35.79\r\n"
                b"2019-10-01 00:00:01 UTC,u-2,add_to_cart,,1\n"
                b'"2019-10-01T00:00:02+02:00","1","purchase","10","1,5"\n'
                b'2019-10-01T00:00:03Z,"unterminated,purchase,1,2\n'
                b'2019-10-01T00:00:03Z,"a"b,purchase,1,2\n'
                b"2019-02-30T00:00:00Z,1,product_view,1,1\n"
                b"2019-10-01T00:00:04Z,1,product_view,1\n"
                b"2019-10-01T00:00:04Z,1,product_view,1,2,3\n"
                b"2019-10-01T00:00:05Z,\xff\xfe,product_view,1,1e3\n"
                b"2019-10-01T00:00:06Z,a\x00b,7,1,-0.005\n"
                b"1969-12-31T23:59:59Z,1,0,1,1\n\n   \n",
    ("csv", 1): b"1570000000000,1,view,10,3579,s1\n1570000000000.5,2,cart,,0,\n"
                b"-1,3,buy,1,1,1\n1570000000000,4,wishlist,1,1,1\n1570000000000,5\n",
    ("csv", 2): b"when;who;what;item;brand;cat;price\n"
                b"27.03.2022 02:30:00;anna;pv;;acme;shoes;\n"
                b"30.10.2022 02:30:00;bob;buy;7;acme;shoes;12,50\n"
                b"31.04.2022 10:00:00;bob;look;7;;;1\n",
    ("csv", 3): b"ts\tuser_id\tproduct_id\tprice\tsession\n"
                b"2019-10-01T00:00:00.123456Z\t1\t1\t35790000\tabc\n"
                b"2019-10-01T00:00:00Z\t1\t1\t-5000\t\n",
}


def write(out, name, mode, body):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([mode]) + body)


def main():
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else None
    os.makedirs(out, exist_ok=True)
    n = 0
    for fmt, rel in SAMPLES.items():
        path = os.path.join(data, rel) if data else None
        if not path or not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            lines = f.read(200000).split(b"\n")[:12]
        body = b"\n".join(lines) + b"\n"
        i = FORMATS.index(fmt)
        write(out, "sample-%s" % fmt, i | (2 << 4), body)
        write(out, "sample-%s-gz" % fmt, i | 8, body)
        n += 2
    for (fmt, variant), body in HANDMADE.items():
        i = FORMATS.index(fmt)
        mode = i | ((variant & 3) << 6 if fmt == "csv" else 0) | (2 << 4)
        write(out, "hand-%s-%d" % (fmt, variant), mode, body)
        write(out, "hand-%s-%d-1rank" % (fmt, variant), mode & ~0x30, body)
        n += 2
    print("make_import_seeds: %d seeds in %s" % (n, out))


if __name__ == "__main__":
    main()
