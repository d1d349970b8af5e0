//! Civil dates and times (proleptic Gregorian, UTC) to Unix microseconds and
//! back, as IPCS prints them: `yyyy/mm/dd` and `hh:mm:ss.ffffff`.

/// Days from 1970-01-01 to the given date (negative before).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    // Count years from March so that the leap day is the last of a year.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number from 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

const DAY_US: i64 = 86_400_000_000;

/// Parses `yyyy/mm/dd` into a day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'/' || b[7] != b'/' {
        return None;
    }
    let y: i64 = digits(&b[0..4])? as i64;
    let m = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, &c| n * 10 + u32::from(c - b'0')))
}

/// Parses `hh:mm:ss.ffffff` (exactly six fraction digits, as IPCS prints
/// them) into microseconds since midnight.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 15 || b[2] != b':' || b[5] != b':' || b[8] != b'.' {
        return None;
    }
    let (h, m, sec, f) = (
        digits(&b[0..2])?,
        digits(&b[3..5])?,
        digits(&b[6..8])?,
        digits(&b[9..15])?,
    );
    // 60 allowed: a leap second on a TOD that counts them
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec)) * 1_000_000 + i64::from(f))
}

/// Unix microseconds of a day number and a time of day.
pub fn unix_us(day: i64, time_us: i64) -> i64 {
    day * DAY_US + time_us
}

/// `yyyy/mm/dd` of Unix microseconds.
pub fn format_date(us: i64) -> String {
    let (y, m, d) = civil_from_days(us.div_euclid(DAY_US));
    format!("{y:04}/{m:02}/{d:02}")
}

/// `hh:mm:ss.ffffff` of Unix microseconds.
pub fn format_time(us: i64) -> String {
    let t = us.rem_euclid(DAY_US);
    let (s, f) = (t / 1_000_000, t % 1_000_000);
    format!("{:02}:{:02}:{:02}.{f:06}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(parse_date("1970/01/01"), Some(0));
        // 2008-02-22 is day 13931 (1203638400 s)
        assert_eq!(parse_date("2008/02/22"), Some(13_931));
        assert_eq!(parse_date("2000/02/29"), Some(11_016));
        assert_eq!(parse_date("1900/02/29"), None);
        assert_eq!(parse_date("2001/13/01"), None);
        assert_eq!(parse_date("2001-01-01"), None);
        for z in [-800_000, -1, 0, 1, 13_931, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("20:48:42.883162"), Some(74_922_883_162));
        assert_eq!(parse_time("20:48:42.88316"), None);
        assert_eq!(parse_time("24:00:00.000000"), None);
        let us = unix_us(13_931, 74_922_883_162);
        assert_eq!(us, 1_203_713_322_883_162);
        assert_eq!(format_date(us), "2008/02/22");
        assert_eq!(format_time(us), "20:48:42.883162");
    }
}
