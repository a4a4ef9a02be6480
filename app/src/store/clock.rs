//! The client's clock words: the API's times read and written, and shown as the reader's
//! local clock, date or "5 min ago". Pure functions, tested natively.

/// Milliseconds since the Unix epoch, by the browser's clock.
pub type Millis = i64;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Reads the API's times (`2026-11-26T13:53:08.123Z`).
pub fn parse_iso(s: &str) -> Option<Millis> {
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let ms = match s.get(19..20) {
        Some(".") => {
            let frac: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
            let padded = format!("{frac:0<3}");
            padded.get(..3)?.parse::<i64>().ok()?
        }
        _ => 0,
    };
    Some((((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec) * 1000 + ms)
}

/// The API's format for a time.
pub fn iso_from_millis(ms: Millis) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", or the date; for a time
/// to come, "in 5 min", "in 3 h", "in 6 days".
pub fn relative(then: Millis, now: Millis, offset_min: i64) -> String {
    let secs = (now - then) / 1000;
    if secs < -44 {
        let ahead = -secs;
        return match ahead {
            45..=3_599 => format!("in {} min", (ahead / 60).max(1)),
            3_600..=86_399 => format!("in {} h", ahead / 3600),
            86_400..=1_209_599 => match ahead / 86_400 {
                1 => "tomorrow".to_owned(),
                d => format!("in {d} days"),
            },
            _ => date(then, offset_min),
        };
    }
    match secs {
        i64::MIN..=44 => "just now".to_owned(),
        45..=3_599 => format!("{} min ago", (secs / 60).max(1)),
        3_600..=86_399 => format!("{} h ago", secs / 3600),
        86_400..=172_799 => "yesterday".to_owned(),
        172_800..=604_799 => format!("{} days ago", secs / 86_400),
        _ => date(then, offset_min),
    }
}

fn local(ms: Millis, offset_min: i64) -> Millis {
    ms - offset_min * 60_000
}

/// `14:05`, in the reader's time zone (`offset_min` as JavaScript gives it: UTC − local).
pub fn clock(ms: Millis, offset_min: i64) -> String {
    let rem = local(ms, offset_min).rem_euclid(86_400_000);
    format!("{:02}:{:02}", rem / 3_600_000, rem / 60_000 % 60)
}

/// `2026-11-26`.
pub fn date(ms: Millis, offset_min: i64) -> String {
    let (y, m, d) = civil_from_days(local(ms, offset_min).div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-26 14:05:09`, for a tooltip.
pub fn exact(ms: Millis, offset_min: i64) -> String {
    let s = local(ms, offset_min).rem_euclid(60_000) / 1000;
    format!("{} {}:{s:02}", date(ms, offset_min), clock(ms, offset_min))
}
