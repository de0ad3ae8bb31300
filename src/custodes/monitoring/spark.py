"""The detectors on Apache Spark, for national scale: the same queries (detectors.steps) over the same
Parquet store, run by a SparkSession instead of DuckDB. Optional: needs `pyspark` and a Java runtime.

    from custodes.monitoring import service, spark
    with spark.local_session() as session_spark:
        alerts, counts = service.find_alerts(db, settings, engine=spark.SparkEngine(session_spark))
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


@contextmanager
def local_session(threads: int = 2, memory: str = "2g") -> Iterator[Any]:
    """A Spark session in local mode working in UTC (a cluster's session works the same way)."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{threads}]")
        .appName("custodes-monitoring")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", str(threads * 2))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    try:
        yield spark
    finally:
        spark.stop()


class SparkEngine:
    """detectors.Engine on Spark. Reference tables travel as Parquet files (no pandas needed)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._folder = Path(tempfile.mkdtemp(prefix="custodes-spark-"))

    def load(self, name: str, table: pa.Table) -> None:
        path = self._folder / f"{name}.parquet"
        pq.write_table(table, path)
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def load_events(self, events_dir: str | None) -> None:
        if events_dir is None:
            self.spark.sql(
                "SELECT CAST(NULL AS STRING) AS event_id, CAST(NULL AS BIGINT) AS at_us, "
                "CAST(NULL AS INT) AS day_num, CAST(NULL AS STRING) AS system, "
                "CAST(NULL AS STRING) AS staff_id, CAST(NULL AS STRING) AS action, "
                "CAST(NULL AS STRING) AS subject_id, CAST(NULL AS STRING) AS case_ref, "
                "CAST(NULL AS STRING) AS batch_id, CAST(NULL AS INT) AS leaf WHERE false"
            ).createOrReplaceTempView("events")
        else:
            frame = self.spark.read.option("basePath", events_dir).parquet(events_dir)
            frame.createOrReplaceTempView("events")

    def keep(self, name: str, select: str) -> None:
        frame = self.spark.sql(select).cache()
        frame.createOrReplaceTempView(name)

    def rows(self, select: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(select).collect()]
