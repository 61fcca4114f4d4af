//! Sizes as users write them in flags (`64m`, `1g`, `512k`, `4096`): one parser for
//! memory limits, tmpfs sizes and log sizes, each caller wording its own error; and sizes
//! and texts as messages show them (`12.3kB`, a long text cut with an ellipsis).

/// Bytes of a size with an optional binary unit (`b`, `k`, `m`, `g`, also `kb`/`kib`...),
/// case-insensitive; `None` for anything else or on overflow.
pub fn parse_binary_size(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let number: u64 = number.parse().ok()?;
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

/// Sizes as Docker prints them: decimal units, three significant digits ("12.3kB").
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = match value {
        v if v >= 100.0 || unit == 0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!(
        "{}{}",
        without_trailing_zeros(&format!("{value:.decimals$}")),
        UNITS[unit]
    )
}

/// Memory as `docker stats` prints it: binary units, four significant digits ("1.5MiB",
/// "7.667GiB").
pub fn binary_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let integer_digits = (value.max(1.0).log10().floor() as usize) + 1;
    let decimals = 4usize.saturating_sub(integer_digits);
    format!(
        "{}{}",
        without_trailing_zeros(&format!("{value:.decimals$}")),
        UNITS[unit]
    )
}

/// "1.50" as "1.5", "2.00" as "2"; whole numbers stay as they are.
fn without_trailing_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// `s` in at most `max` characters, its cut end marked with an ellipsis.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else if max == 0 {
        String::new()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::{binary_size, human_size, parse_binary_size};

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(1_234_567), "1.23MB");
        assert_eq!(human_size(77_800_000), "77.8MB");
        assert_eq!(human_size(4_000_000), "4MB");
    }

    #[test]
    fn memory_sizes_use_binary_units() {
        assert_eq!(binary_size(0), "0B");
        assert_eq!(binary_size(1536 * 1024), "1.5MiB");
        assert_eq!(binary_size(100 << 20), "100MiB");
        assert_eq!(binary_size(8_232_000_000), "7.667GiB");
    }

    #[test]
    fn sizes_take_binary_units_and_refuse_the_rest() {
        assert_eq!(parse_binary_size("4096"), Some(4096));
        assert_eq!(parse_binary_size("64m"), Some(64 << 20));
        assert_eq!(parse_binary_size("1GB"), Some(1 << 30));
        assert_eq!(parse_binary_size("100kib"), Some(100 << 10));
        for bad in ["", "m", "1.5g", "-1", "10t", "99999999999999999999g"] {
            assert_eq!(parse_binary_size(bad), None, "{bad:?}");
        }
    }
}
