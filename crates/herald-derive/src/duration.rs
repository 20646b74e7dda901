//! Durations written as strings (`"200ms"`, `"30s"`, `"1m30s"`), parsed at compile time.

use std::time::Duration;

/// Parses `"200ms"`, `"30s"`, `"5m"`, `"1h"`, `"7d"`, `"1m30s"`, `"1.5s"`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration: write a number and a unit, like \"30s\"".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() {
            return Err(format!(
                "invalid duration \"{text}\": expected a number before `{after}`"
            ));
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let unit_nanos: f64 = match unit.trim() {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3_600e9,
            "d" => 86_400e9,
            "" => {
                return Err(format!(
                    "invalid duration \"{text}\": `{number}` has no unit (ns, us, ms, s, m, h, d)"
                ));
            }
            other => {
                return Err(format!(
                    "invalid duration \"{text}\": unknown unit `{other}` (expected ns, us, ms, s, m, h or d)"
                ));
            }
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration \"{text}\": `{number}` is not a number"))?;
        let nanos = value * unit_nanos;
        if !nanos.is_finite() || nanos > u64::MAX as f64 {
            return Err(format!("duration \"{text}\" is too long"));
        }
        total = total
            .checked_add(Duration::from_nanos(nanos.round() as u64))
            .ok_or_else(|| format!("duration \"{text}\" is too long"))?;
        rest = next;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1_500)));
        assert_eq!(parse("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_bad_input() {
        for bad in ["", "30", "s", "30x", "3..0s", "ms30", "1e3s"] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse("99999999999999999999999d").is_err());
    }
}
