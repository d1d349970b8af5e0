//! Times and durations as people read them in reports, comments and
//! `info` (UTC calendar dates without a date crate: one small conversion).

/// A signed duration with a unit that fits: `+31.3 µs`, `-2.5 ms`,
/// `+2.718282 s`, `+950 ns`.
pub fn duration(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    let a = ns.unsigned_abs();
    if a < 1_000 {
        format!("{sign}{a} ns")
    } else if a < 1_000_000 {
        format!("{sign}{:.1} µs", a as f64 / 1e3)
    } else if a < 1_000_000_000 {
        format!("{sign}{:.3} ms", a as f64 / 1e6)
    } else {
        // Exact digits: clock offsets of hours are still read to the µs.
        format!(
            "{sign}{}.{:06} s",
            a / 1_000_000_000,
            (a % 1_000_000_000) / 1_000
        )
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (the
/// one conversion, in the index crate beside the merged-capture comments
/// that need it too).
fn civil(days: i64) -> (i64, u32, u32) {
    index::merged::civil_from_days(days)
}

/// `2026-11-22 07:19:28.123456 UTC`-style parts: (date, time of day with µs).
fn split(ts_ns: i64) -> (String, String) {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let micros = ts_ns.rem_euclid(1_000_000_000) / 1_000;
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!(
            "{:02}:{:02}:{:02}.{micros:06}",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        ),
    )
}

/// Date and time, UTC, to the microsecond: `2026-11-22 07:19:28.123456`.
pub fn datetime(ts_ns: i64) -> String {
    let (d, t) = split(ts_ns);
    format!("{d} {t}")
}

/// Time of day, UTC, to the microsecond: `07:19:28.123456`.
pub fn time_of_day(ts_ns: i64) -> String {
    split(ts_ns).1
}

/// Seconds with 6 decimals (exact): `12.345678`, `-0.000100`.
pub fn seconds(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    format!(
        "{sign}{}.{:06}",
        a / 1_000_000_000,
        (a % 1_000_000_000) / 1_000
    )
}

/// A clock resolution (a power of ten, ns) as people say it: `1 ns`,
/// `1 µs`, `10 µs`, `1 ms`, `1 s`.
pub fn resolution(ns: u32) -> String {
    match ns {
        0 => "unknown".into(),
        n if n >= 1_000_000_000 && n % 1_000_000_000 == 0 => format!("{} s", n / 1_000_000_000),
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{} ms", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{} µs", n / 1_000),
        n => format!("{n} ns"),
    }
}

/// Confidence byte (0-255) as a whole percentage.
pub fn percent(confidence: u8) -> u32 {
    (u32::from(confidence) * 100 + 127) / 255
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(31_300), "+31.3 µs");
        assert_eq!(duration(-12_149), "-12.1 µs");
        assert_eq!(duration(950), "+950 ns");
        assert_eq!(duration(0), "+0 ns");
        assert_eq!(duration(2_500_000), "+2.500 ms");
        assert_eq!(duration(2_718_281_828), "+2.718281 s");
        assert_eq!(duration(-97_314_159_265), "-97.314159 s");
        assert_eq!(duration(i64::MIN), "-9223372036.854775 s");
    }

    #[test]
    fn dates() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00.000000");
        // The lab's reference instant (tests/lab: run.json "started").
        assert_eq!(
            datetime(1_795_331_968_000_000_000),
            "2026-11-22 07:19:28.000000"
        );
        assert_eq!(
            datetime(951_782_400_123_456_789),
            "2000-02-29 00:00:00.123456"
        );
        assert_eq!(datetime(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(time_of_day(1_795_331_968_500_000_000), "07:19:28.500000");
        assert_eq!(seconds(12_345_678_901), "12.345678");
        assert_eq!(seconds(-100_000), "-0.000100");
        assert_eq!((percent(255), percent(0), percent(128)), (100, 0, 50));
        let r: Vec<String> = [0, 1, 100, 1_000, 10_000, 1_000_000, 1_000_000_000]
            .into_iter()
            .map(resolution)
            .collect();
        assert_eq!(
            r,
            ["unknown", "1 ns", "100 ns", "1 µs", "10 µs", "1 ms", "1 s"]
        );
    }
}
