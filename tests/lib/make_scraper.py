#!/usr/bin/python3
"""Writes DIR/e.h5: one scraper (user 42) clicking through SCRAPED distinct
products, one every STEP_US microseconds, among OTHERS events of other users
(ids 100..100+USERS-1, products 1..999), category = product % CATEGORIES.
Used by test_memory.sh and test_memory_big.sh; the same arguments give the
same file (seed 5).

  make_scraper.py DIR SCRAPED OTHERS STEP_US USERS CATEGORIES
"""
import os
import sys

import h5py
import numpy as np

out, nb, nn, step, users, cats = sys.argv[1], *map(int, sys.argv[2:7])
os.makedirs(out, exist_ok=True)
r = np.random.default_rng(5)
T = 1704067200 * 10**6
ts = np.r_[T + np.arange(nb) * step, T + r.integers(0, nb * step, nn)]
us = np.r_[np.full(nb, 42), r.integers(100, 100 + users, nn)].astype("u8")
pid = np.r_[r.permutation(nb) + 1, r.integers(1, 1000, nn)].astype("u8")
o = np.argsort(ts, kind="stable")
with h5py.File(os.path.join(out, "e.h5"), "w") as f:
    g = f.create_group("events")
    g["ts"], g["user_id"], g["product_id"] = ts[o], us[o], pid[o]
    g["category_id"] = (pid[o] % cats).astype("u4")
    g["event_type"] = np.ones(nb + nn, "u1")
