//! z/Architecture TOD clock values.
//!
//! The TOD clock is a 64-bit unsigned count whose bit 51 (counting the most
//! significant bit as bit 0) ticks once a microsecond, so one unit is
//! 1/4096 µs = 0.244140625 ns; its epoch is 1900-01-01 00:00:00.  The Unix
//! epoch is TOD X'7D91048BCA000000' (2 208 988 800 s × 10^6 × 4096).
//! Source: IBM z/Architecture Principles of Operation, "TOD clock".
//!
//! The clock counts leap seconds only if the installation set it that way:
//! many installations run the TOD "with leap seconds" (ahead of UTC by the
//! accumulated leap seconds, 27 s since 2017) and correct in software.
//! Nothing in a trace record says which, so every conversion takes
//! `leap_seconds` = TOD − UTC in seconds (0 for a TOD that is plain UTC).

/// TOD value of 1970-01-01 00:00:00 UTC.
pub const UNIX_EPOCH_TOD: u64 = 0x7D91_048B_CA00_0000;

/// TOD units per microsecond (bit 51 = 1 µs).
pub const UNITS_PER_US: u64 = 4096;

/// Leap seconds inserted between 1972 and 2017: TOD − UTC for a TOD clock
/// set to count them (the value to pass when an installation runs that way).
pub const LEAP_SECONDS_SINCE_2017: i64 = 27;

/// TOD → nanoseconds since the Unix epoch (UTC), rounding down; the
/// sub-microsecond bits are kept as a fraction of a nanosecond would be, so
/// every TOD unit boundary maps to its exact floor in ns.
pub fn to_unix_ns(tod: u64, leap_seconds: i64) -> i64 {
    let units = tod as i128 - UNIX_EPOCH_TOD as i128;
    // 1 unit = 1000/4096 ns = 125/512 ns.
    let ns = (units * 125).div_euclid(512) - leap_seconds as i128 * 1_000_000_000;
    ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Nanoseconds since the Unix epoch (UTC) → TOD, rounding up to the next TOD
/// unit, so that `to_unix_ns(from_unix_ns(ns, l), l) == ns` for every `ns`
/// the TOD range covers (1900 to 2042).  Values outside it saturate.
pub fn from_unix_ns(ns: i64, leap_seconds: i64) -> u64 {
    let ns = ns as i128 + leap_seconds as i128 * 1_000_000_000;
    // ceil(ns * 512 / 125)
    let units = -((-ns * 512).div_euclid(125));
    let tod = units + UNIX_EPOCH_TOD as i128;
    tod.clamp(0, u64::MAX as i128) as u64
}

/// TOD → whole microseconds since the Unix epoch, rounding down (the IBM
/// formula `(tod − X'7D91048BCA000000') >> 12`).
pub fn to_unix_us(tod: u64, leap_seconds: i64) -> i64 {
    let us = (tod as i128 - UNIX_EPOCH_TOD as i128).div_euclid(UNITS_PER_US as i128)
        - leap_seconds as i128 * 1_000_000;
    us.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// TOD → (seconds, nanoseconds 0..1e9) since the Unix epoch, for a
/// timestamp type with separate fields (Wireshark's nstime_t).
pub fn to_unix_secs_nanos(tod: u64, leap_seconds: i64) -> (i64, u32) {
    let ns = to_unix_ns(tod, leap_seconds);
    (
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch() {
        assert_eq!(to_unix_ns(UNIX_EPOCH_TOD, 0), 0);
        assert_eq!(from_unix_ns(0, 0), UNIX_EPOCH_TOD);
        assert_eq!(UNIX_EPOCH_TOD, 2_208_988_800u64 * 1_000_000 * 4096);
        assert_eq!(to_unix_us(UNIX_EPOCH_TOD + 4096 * 5 + 4095, 0), 5);
    }

    #[test]
    fn tod_zero_is_1900() {
        assert_eq!(to_unix_ns(0, 0), -2_208_988_800_000_000_000);
        assert_eq!(to_unix_us(0, 0), -2_208_988_800_000_000);
        assert_eq!(from_unix_ns(i64::MIN, 0), 0);
        assert_eq!(from_unix_ns(i64::MAX, 0), u64::MAX);
    }

    #[test]
    fn sub_microsecond_fraction() {
        // one unit = 0.244 ns → floors to 0; 5 units = 1.22 ns → 1.
        assert_eq!(to_unix_ns(UNIX_EPOCH_TOD + 1, 0), 0);
        assert_eq!(to_unix_ns(UNIX_EPOCH_TOD + 5, 0), 1);
        assert_eq!(to_unix_ns(UNIX_EPOCH_TOD + 4096, 0), 1000);
        assert_eq!(to_unix_ns(UNIX_EPOCH_TOD - 1, 0), -1);
    }

    #[test]
    fn nanosecond_round_trip() {
        let base = 1_700_000_000_123_456_789i64;
        for d in 0..5000 {
            for ns in [base + d, base - d * 7919, -d * 104_729] {
                let tod = from_unix_ns(ns, 0);
                assert_eq!(to_unix_ns(tod, 0), ns, "ns {ns}");
                assert_eq!(to_unix_ns(from_unix_ns(ns, 27), 27), ns);
            }
        }
        // microsecond timestamps map to whole-µs TOD values
        let us = 1_267_000_000_000_001i64;
        assert_eq!(from_unix_ns(us * 1000, 0) % 4096, 0);
    }

    #[test]
    fn leap_seconds() {
        let tod = from_unix_ns(0, 0);
        assert_eq!(to_unix_ns(tod, 27), -27_000_000_000);
        assert_eq!(from_unix_ns(0, 27) - tod, 27 * 1_000_000 * 4096);
        assert_eq!(to_unix_us(tod, LEAP_SECONDS_SINCE_2017), -27_000_000);
    }

    #[test]
    fn secs_nanos() {
        // 2008-02-22 20:48:42.883162 (the IPCS sample's Tod Clock)
        let ns = 1_203_713_322_883_162_000i64;
        let tod = from_unix_ns(ns, 0);
        assert_eq!(to_unix_secs_nanos(tod, 0), (1_203_713_322, 883_162_000));
        assert_eq!(
            to_unix_secs_nanos(UNIX_EPOCH_TOD - 4096, 0),
            (-1, 999_999_000)
        );
    }
}
