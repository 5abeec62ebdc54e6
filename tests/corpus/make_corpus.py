"""Write the bad-input corpus: small files shaped like real broken exports.

Run from the project root to regenerate (the files are committed; this script is
their provenance): ``.venv/bin/python tests/corpus/make_corpus.py``. Expected outcomes
are in ``manifest.toml`` beside the files.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def rows(queues=("voice", "chat"), days=3, start="2026-11-09", sep=",", ts_fmt=None,
         aht=True, decimal=".") -> list[str]:
    """Half-hourly rows 08:00-12:00 for a few days, timestamp-major like an ACD export."""
    out = []
    rng = np.random.default_rng(7)
    for day in pd.date_range(start, periods=days, freq="D"):
        for t in pd.date_range(day + pd.Timedelta(hours=8), periods=8, freq="30min"):
            for q in queues:
                stamp = t.strftime(ts_fmt) if ts_fmt else t.strftime("%Y-%m-%d %H:%M")
                cells = [q, stamp, str(int(rng.poisson(40)))]
                if aht:
                    cells.append(f"{rng.normal(300, 20):.1f}".replace(".", decimal))
                out.append(sep.join(cells))
    return out


HEADER = "queue,timestamp,volume,aht_s"


def text(lines: list[str], header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *lines]) + end


def write(name: str, content: str | bytes, encoding: str = "utf-8") -> None:
    path = HERE / name
    if isinstance(content, str):
        path.write_bytes(content.encode(encoding))
    else:
        path.write_bytes(content)


def main() -> None:
    good = rows()
    # --- volumes: repaired with a warning, or accepted as they are
    write("volumes_clean.csv", text(good))
    write("totals_row.csv", text(good + ["Total,,12345,"]))
    both = text(good[:30]) + text(good[24:])  # two exports joined with cat, overlapping
    write("repeated_header_concatenated.csv", both)
    write("bom_crlf.csv", "\ufeff" + text(good, end="\r\n"))
    write("excel_dates_day_first.csv",
          text(rows(start="2026-11-16", ts_fmt="%d/%m/%Y %H:%M")))
    write("semicolon_decimal_comma.csv",
          text(rows(sep=";", start="2026-11-16", ts_fmt="%d.%m.%Y %H:%M", decimal=","),
               header="queue;timestamp;volume;aht_s"))
    unsorted = good[::-1]
    write("unsorted_fractional.csv", text([ln.replace(",40,", ",40.5,") for ln in unsorted]))
    write("extra_columns.csv", text([ln + ",IVR,x" for ln in good],
                                    header=HEADER + ",source,comment"))
    write("tab_separated.tsv", text([ln.replace(",", "\t") for ln in good],
                                    header=HEADER.replace(",", "\t")))
    # --- volumes: rejected
    write("truncated_mid_line.csv", text(good).rstrip("\n")[:-12])
    write("truncated_timestamp.csv", text(good + ["voice,2026-11-12 08:3"]).rstrip("\n"))
    write("excel_dates_ambiguous.csv",
          text(rows(start="2026-11-02", ts_fmt="%d/%m/%Y %H:%M", days=3)))
    latin = text([ln.replace("chat", "réclamations") for ln in good])
    write("latin1_queue_names.csv", latin, encoding="latin-1")
    gz = gzip.compress(text(rows(days=40)).encode(), mtime=0)  # same bytes every run
    write("truncated.csv.gz", gz[: len(gz) * 2 // 3])
    write("absurd_volume.csv", text(good[:10] + ["voice,2026-11-12 08:00,1e12,300.0"]))
    write("negative_volume.csv", text(good[:5] + ["chat,2026-11-12 08:00,-3,300.0"]))
    write("text_in_volume.csv", text(good[:7] + ["voice,2026-11-12 08:00,n/a,300.0"]))
    write("conflicting_duplicate.csv",
          text(good + [good[3].replace(good[3].split(",")[2], "999", 1)]))
    write("header_only.csv", HEADER + "\n")
    write("empty.csv", "")
    seven = [f"voice,{t:%Y-%m-%d %H:%M},5" for t in
             pd.date_range("2026-11-09 08:00", periods=30, freq="7min")]
    write("seven_minute_intervals.csv", text(seven, header="queue,timestamp,volume"))
    write("stray_date.csv", text(good[:20] + ["voice,1900-01-01 08:00,12,300.0"] + good[20:]))
    write("zero_date_default.csv", text(good[:9] + ["voice,0001-01-01 00:00,0,"] + good[9:]))
    write("mixed_offsets.csv", text([ln.replace(" 09:00", "T09:00:00Z") for ln in good]))
    write("missing_volume_column.csv", "queue,timestamp,calls\nvoice,2026-11-09 08:00,4\n")
    write("png_named_csv.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for member in ("voice.csv", "chat.csv"):
            z.writestr(zipfile.ZipInfo(member, date_time=(2026, 11, 16, 6, 0, 0)), text(good))
    write("two_files.csv.zip", archive.getvalue())
    frame = pd.DataFrame({"queue": ["voice"] * 4,
                          "timestamp": pd.date_range("2026-11-09 08:00", periods=4,
                                                     freq="30min").astype("int64") // 10**9,
                          "volume": [3, 4, 5, 6]})
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    write("epoch_seconds.parquet", buf.getvalue())
    frame = pd.DataFrame({"queue": ["voice"] * 4,
                          "timestamp": pd.date_range("2026-11-09 08:00", periods=4,
                                                     freq="30min"),
                          "volume": ["3", "4", "lots", "6"]})
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    write("text_volume.parquet", buf.getvalue())
    # --- events
    write("events_end_before_start.csv",
          "name,type,start,end,queue,weight\n"
          "Winter offer,campaign,2026-11-20,2026-11-25,,1\n"
          "Router fault,outage,2026-11-21 14:00,2026-11-21 09:00,voice,1\n")
    write("events_unknown_type.csv",
          "name,type,start,end\nStorm,weather,2026-11-20,2026-11-21\n")
    write("events_bom_crlf.csv", "\ufeffname,type,start,end\r\n"
          "Winter offer,campaign,2026-11-20,2026-11-25\r\n")
    write("events_bad_weight.csv", "name,type,start,end,weight\n"
          "Winter offer,campaign,2026-11-20,2026-11-25,lots\n")


if __name__ == "__main__":
    main()
