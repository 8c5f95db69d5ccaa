"""Writes checksummed.parquet: a small table whose pages carry CRC-32
checksums (pyarrow's `write_page_checksum`), for the corruption tests.

    python -m pip install pyarrow && python checksummed.py

Columns: id (int64, 0..2999), amount (float64, every 7th null),
segment (dictionary-encoded text), opened (date32), active (bool);
two row groups of 1500 rows, pages of about 1 KiB, zstd.
"""
import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

n = 3000
table = pa.table({
    "id": pa.array(range(n), pa.int64()),
    "amount": pa.array([None if i % 7 == 0 else i * 1.25 - 400.0 for i in range(n)], pa.float64()),
    "segment": pa.array([f"seg-{i % 13}" for i in range(n)], pa.string()),
    "opened": pa.array([datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 900) for i in range(n)], pa.date32()),
    "active": pa.array([i % 3 != 0 for i in range(n)], pa.bool_()),
})
pq.write_table(
    table,
    Path(__file__).with_name("checksummed.parquet"),
    row_group_size=1500,
    data_page_size=1024,
    compression="zstd",
    write_page_checksum=True,
)
