"""Rewrites a pktmatch key table directory with pyarrow, as a user who
reworks the tables in Python would: every Parquet file is read with
`pyarrow.parquet.read_table` and written again with `write_table` (pyarrow's
defaults for row groups and statistics unless MODE says otherwise) into the
same place under DST; other files are copied as they are.

    python keys_rewrite.py SRC DST MODE

MODE:
  defaults       pyarrow's defaults, the footer's key-value pairs kept
  small-groups   the same in row groups of 50 rows
  no-statistics  the same with write_statistics=False
  shuffled       the rows sorted by conn_hash (frames out of order within a
                 file), statistics on
  plain          read_table -> write_table and nothing else

`read_table` does not keep the key-value pairs of a file another writer
made (it takes the schema's metadata from the embedded ARROW:schema, which
pktmatch's writer leaves without them), so all modes but `plain` put the
footer's pairs back on the table before writing.

Prints one line per Parquet file written, tab-separated: its path under
DST, its row groups, the largest `frame` of the row group statistics as
pyarrow reads them back ("none" if a row group has none), and the largest
`frame` of its rows.
"""
import os
import shutil
import sys

import pyarrow.compute as pc
import pyarrow.parquet as pq

src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
assert mode in ("defaults", "small-groups", "no-statistics", "shuffled", "plain"), mode


def footer_pairs(path):
    pairs = dict(pq.read_metadata(path).metadata or {})
    # Kept, the old ARROW:schema (without the pairs) would be written again
    # in place of the table's, and read_table would drop the pairs again.
    pairs.pop(b"ARROW:schema", None)
    return pairs


def rewrite(path, out):
    table = pq.read_table(path)
    # A single file is not partitioned: no `point` column is added.
    assert table.column_names == pq.read_schema(path).names, table.column_names
    if mode != "plain":
        table = table.replace_schema_metadata(footer_pairs(path))
    if mode == "shuffled":
        table = table.sort_by([("conn_hash", "ascending")])
    groups = {"row_group_size": 50} if mode == "small-groups" else {}
    pq.write_table(table, out, write_statistics=(mode != "no-statistics"), **groups)


def frame_statistic(path):
    meta = pq.read_metadata(path)
    k = meta.schema.names.index("frame")
    top = None
    for g in range(meta.num_row_groups):
        s = meta.row_group(g).column(k).statistics
        if s is None or not s.has_min_max:
            return meta.num_row_groups, "none"
        top = s.max if top is None else max(top, s.max)
    return meta.num_row_groups, top


for base, _, names in os.walk(src):
    rel = os.path.relpath(base, src)
    os.makedirs(os.path.join(dst, rel), exist_ok=True)
    for name in sorted(names):
        path, out = os.path.join(base, name), os.path.join(dst, rel, name)
        if not name.endswith(".parquet"):
            shutil.copy2(path, out)
            continue
        rewrite(path, out)
        groups, stat = frame_statistic(out)
        frames = pq.read_table(out, columns=["frame"])["frame"]
        print(f"{os.path.join(rel, name)}\t{groups}\t{stat}\t{pc.max(frames).as_py()}")
