//! Sizes as users write them in flags (`64m`, `1g`, `512k`, `4096`): one parser for
//! memory limits, tmpfs sizes and log sizes, each caller wording its own error.

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

#[cfg(test)]
mod tests {
    use super::parse_binary_size;

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
