//! `.env` files: `KEY=VALUE` lines as Compose reads them (comments, `export`, single quotes
//! literal, double quotes with escapes and interpolation, unquoted values interpolated and
//! cut at ` #`).

use super::interp;
use std::collections::BTreeMap;

/// One variable of an env file: a bare `KEY` not in the environment has no value.
pub(crate) type Var = (String, Option<String>);

/// Parses `text`; `lookup` is the environment that `${VAR}` in values and bare `KEY` lines
/// read (values defined earlier in the same file are visible too). Errors name the line.
pub(crate) fn parse(
    text: &str,
    lookup: &BTreeMap<String, String>,
) -> Result<Vec<Var>, (usize, String)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut scope = lookup.clone();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let lineno = i + 1;
        let raw = lines[i].trim_start();
        i += 1;
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let raw = raw.strip_prefix("export ").unwrap_or(raw).trim_start();
        let (key, rest) = match raw.find(['=', ':']) {
            Some(p) => (raw[..p].trim(), Some(raw[p + 1..].trim_start())),
            None => (raw.trim(), None),
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err((
                lineno,
                format!("unexpected character in variable name {key:?}"),
            ));
        }
        let Some(rest) = rest else {
            // A bare name takes its value from the environment, or stays unset.
            out.push((key.to_string(), lookup.get(key).cloned()));
            continue;
        };
        let value = if let Some(body) = rest.strip_prefix('\'') {
            let mut acc = body.to_string();
            while !acc.contains('\'') {
                let Some(next) = lines.get(i) else {
                    return Err((lineno, "unterminated single-quoted value".into()));
                };
                acc.push('\n');
                acc.push_str(next);
                i += 1;
            }
            let end = acc.find('\'').unwrap_or(acc.len());
            acc[..end].to_string()
        } else if let Some(body) = rest.strip_prefix('"') {
            let mut acc = body.to_string();
            let close = |s: &str| {
                let mut esc = false;
                for (p, c) in s.char_indices() {
                    match c {
                        '\\' if !esc => esc = true,
                        '"' if !esc => return Some(p),
                        _ => esc = false,
                    }
                }
                None
            };
            let end = loop {
                if let Some(p) = close(&acc) {
                    break p;
                }
                let Some(next) = lines.get(i) else {
                    return Err((lineno, "unterminated double-quoted value".into()));
                };
                acc.push('\n');
                acc.push_str(next);
                i += 1;
            };
            let unescaped = unescape(&acc[..end]);
            interp::expand(&unescaped, &scope, &mut Vec::new())
                .map_err(|e| (lineno, e.to_string()))?
        } else {
            let v = match rest.find(" #") {
                Some(p) => &rest[..p],
                None => rest,
            };
            interp::expand(v.trim_end(), &scope, &mut Vec::new())
                .map_err(|e| (lineno, e.to_string()))?
        };
        scope.insert(key.to_string(), value.clone());
        out.push((key.to_string(), Some(value)));
    }
    Ok(out)
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push_str("$$"),
            Some(x) => {
                out.push('\\');
                out.push(x);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let env: BTreeMap<String, String> = [("HOME".to_string(), "/h".to_string())].into();
        let got = parse(
            "# c\nA=1\nexport B='x $A'\nC=\"l1\\nl2 ${A}\"\nD=v # comment\nHOME\nE=${B}-$HOME\nNOPE\n",
            &env,
        )
        .expect("parses");
        let m: Vec<(String, Option<String>)> = got;
        assert_eq!(
            m,
            [
                ("A".into(), Some("1".into())),
                ("B".into(), Some("x $A".into())),
                ("C".into(), Some("l1\nl2 1".into())),
                ("D".into(), Some("v".into())),
                ("HOME".into(), Some("/h".into())),
                ("E".into(), Some("x $A-/h".into())),
                ("NOPE".into(), None),
            ]
        );
    }

    #[test]
    fn bad_lines_name_the_line() {
        let e = parse("A=1\nB C=2\n", &BTreeMap::new()).expect_err("bad");
        assert_eq!(e.0, 2);
        let e = parse("A='open\n", &BTreeMap::new()).expect_err("bad");
        assert_eq!(e.0, 1);
    }
}
