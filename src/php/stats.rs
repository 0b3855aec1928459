//! `DistributedLock::stats()` and the phpinfo() rows: this process's counters, gauges and
//! histograms (names and meanings: `registry::Totals`).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::ZendHashTable;
use ext_php_rs::{info_table_header, info_table_row};

use crate::session::registry::Totals;

/// `['pid' => int, 'counters' => [name => int], 'gauges' => [name => int], 'ignored_by_reason'
/// => [reason => int], 'histograms' => [name => ['buckets' => ['0.001' => int, ..., '+Inf' =>
/// int], 'count' => int, 'sum' => float]]]`; bucket counts are cumulative (Prometheus' `le`).
pub fn stats_array(totals: &Totals) -> ext_php_rs::error::Result<ZBox<ZendHashTable>> {
    let mut counters = ZendHashTable::new();
    for (name, value) in totals.counters() {
        counters.insert(name, count(value))?;
    }
    let mut gauges = ZendHashTable::new();
    for (name, value) in totals.gauges() {
        gauges.insert(name, count(value))?;
    }
    let mut ignored = ZendHashTable::new();
    for (reason, n) in &totals.stats.core.ignored_by_reason {
        ignored.insert(*reason, count(*n))?;
    }
    let mut histograms = ZendHashTable::new();
    for (name, histogram) in totals.histograms() {
        let mut buckets = ZendHashTable::new();
        for (bound, n) in histogram.buckets() {
            // Keys like "0.001" and "1.0": a numeric string without a point ("1") would become
            // an integer key in PHP.
            buckets.insert(format!("{bound:?}").as_str(), count(n))?;
        }
        buckets.insert("+Inf", count(histogram.count()))?;
        let mut entry = ZendHashTable::new();
        entry.insert("buckets", buckets)?;
        entry.insert("count", count(histogram.count()))?;
        entry.insert("sum", histogram.sum().as_secs_f64())?;
        histograms.insert(name, entry)?;
    }
    let mut array = ZendHashTable::new();
    array.insert("pid", i64::from(std::process::id()))?;
    array.insert("counters", counters)?;
    array.insert("gauges", gauges)?;
    array.insert("ignored_by_reason", ignored)?;
    array.insert("histograms", histograms)?;
    Ok(array)
}

/// The phpinfo() rows (inside the module's table).
pub fn info_rows(totals: &Totals) {
    info_table_header!("statistics of this process", "value");
    for (name, value) in totals.gauges().into_iter().chain(totals.counters()) {
        info_table_row!(name, value.to_string());
    }
    for (reason, n) in &totals.stats.core.ignored_by_reason {
        info_table_row!(format!("records_ignored: {reason}"), n.to_string());
    }
    for (name, histogram) in totals.histograms() {
        let mean = match histogram.count() {
            0 => "-".to_owned(),
            n => format!("{:.6}", histogram.sum().as_secs_f64() / n as f64),
        };
        info_table_row!(format!("{name} (count, mean)"), format!("{}, {mean}", histogram.count()));
    }
}

/// PHP integers are signed; a counter past `i64::MAX` would take 292 years at 1 GHz.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
