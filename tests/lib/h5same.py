#!/usr/bin/python3
"""h5same.py DIR_A DIR_B — every .h5 file of DIR_A exists in DIR_B with the
same datasets holding the same values (attributes aside). Exit 1 otherwise.
Used to prove `clickseg generate` writes the same archive for any rank count."""
import os
import sys

import h5py
import numpy as np


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def main(a, b):
    names = sorted(n for n in os.listdir(a) if n.endswith(".h5"))
    if names != sorted(n for n in os.listdir(b) if n.endswith(".h5")):
        print(f"h5same: file lists differ: {names} vs {sorted(os.listdir(b))}")
        return 1
    for n in names:
        with h5py.File(os.path.join(a, n), "r") as fa, h5py.File(os.path.join(b, n), "r") as fb:
            da, db = datasets(fa), datasets(fb)
            if sorted(da) != sorted(db):
                print(f"h5same: {n}: datasets differ: {sorted(da)} vs {sorted(db)}")
                return 1
            for k in da:
                if not np.array_equal(da[k], db[k]):
                    print(f"h5same: {n}:{k} differs")
                    return 1
    print(f"h5same: {len(names)} files identical")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
