"""Prints a pktmatch key table as tab-separated text, read with pyarrow's
dataset API the way a user would (Hive partitioning: a `point` column from
the point=LABEL directories).

    python keys_dump.py DIR COLUMN...

First line: the points and their row counts; then one line per row, point
and frame order, the point first, then the columns asked for (empty for
null; timestamps as integer nanoseconds).
"""
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

root, columns = sys.argv[1], sys.argv[2:]
data = ds.dataset(root, format="parquet", partitioning="hive")
table = data.to_table(columns=["point"] + columns)
table = table.sort_by([("point", "ascending"), ("frame", "ascending")])
counts = table.group_by("point").aggregate([("frame", "count")])
print(" ".join(f"{p}={n}" for p, n in zip(counts["point"].to_pylist(), counts["frame_count"].to_pylist())))
cols = []
for name in ["point"] + columns:
    c = table[name]
    if pa.types.is_timestamp(c.type):
        c = pc.cast(c, "int64")
    cols.append(c.to_pylist())
out = sys.stdout
for row in zip(*cols):
    out.write("\t".join("" if v is None else str(v) for v in row))
    out.write("\n")
