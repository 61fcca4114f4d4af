//! Variable interpolation in string values, as the compose specification's `interpolation.md`
//! describes: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`,
//! `${VAR:+a}`, `${VAR+a}`, `$$` for a literal dollar, defaults that nest further templates.

use std::collections::BTreeMap;

/// Why a template could not be expanded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InterpError {
    /// `${VAR:?msg}` / `${VAR?msg}` with the variable missing (or empty for `:?`).
    Required { var: String, msg: String },
    /// A `${` without its `}` or a name that is not one.
    Invalid(String),
}

impl std::fmt::Display for InterpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // compose-go's wording.
            InterpError::Required { var, msg } if msg.is_empty() => {
                write!(f, "required variable {var} is missing a value")
            }
            InterpError::Required { var, msg } => {
                write!(f, "required variable {var} is missing a value: {msg}")
            }
            InterpError::Invalid(t) => write!(f, "invalid template: {t:?}"),
        }
    }
}

/// Expands `s`; names of variables that were unset and defaulted to "" go to `unset`.
pub(crate) fn expand(
    s: &str,
    env: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
) -> Result<String, InterpError> {
    if !s.contains('$') {
        return Ok(s.to_string());
    }
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    let out = expand_until(&chars, &mut pos, env, unset, false, s)?;
    Ok(out)
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Expands from `pos` to the end, or to an unmatched `}` when `nested` (a default value).
fn expand_until(
    c: &[char],
    pos: &mut usize,
    env: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
    nested: bool,
    whole: &str,
) -> Result<String, InterpError> {
    let mut out = String::new();
    // Braces written in a default (`${X:-{"a":1}}`) pair up before one closes the template.
    let mut open = 0usize;
    while *pos < c.len() {
        let ch = c[*pos];
        if nested && ch == '}' {
            if open == 0 {
                return Ok(out);
            }
            open -= 1;
        }
        if nested && ch == '{' {
            open += 1;
        }
        if ch != '$' {
            out.push(ch);
            *pos += 1;
            continue;
        }
        // A dollar.
        match c.get(*pos + 1) {
            Some('$') => {
                out.push('$');
                *pos += 2;
            }
            Some('{') => {
                *pos += 2;
                out.push_str(&braced(c, pos, env, unset, whole)?);
            }
            Some(&n) if is_name_start(n) => {
                let start = *pos + 1;
                let mut end = start;
                while end < c.len() && is_name(c[end]) {
                    end += 1;
                }
                let name: String = c[start..end].iter().collect();
                *pos = end;
                out.push_str(&lookup(&name, env, unset));
            }
            _ => {
                // A lone `$` (end of string, before a space...) stays, as compose-go keeps it.
                out.push('$');
                *pos += 1;
            }
        }
    }
    if nested {
        return Err(InterpError::Invalid(whole.to_string()));
    }
    Ok(out)
}

fn lookup(name: &str, env: &BTreeMap<String, String>, unset: &mut Vec<String>) -> String {
    match env.get(name) {
        Some(v) => v.clone(),
        None => {
            if !unset.iter().any(|u| u == name) {
                unset.push(name.to_string());
            }
            String::new()
        }
    }
}

/// After `${`: a name, an optional operator and its argument, then `}`.
fn braced(
    c: &[char],
    pos: &mut usize,
    env: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
    whole: &str,
) -> Result<String, InterpError> {
    let start = *pos;
    while *pos < c.len() && is_name(c[*pos]) {
        *pos += 1;
    }
    let name: String = c[start..*pos].iter().collect();
    if name.is_empty() || !name.starts_with(is_name_start) {
        return Err(InterpError::Invalid(whole.to_string()));
    }
    let Some(&op1) = c.get(*pos) else {
        return Err(InterpError::Invalid(whole.to_string()));
    };
    if op1 == '}' {
        *pos += 1;
        return Ok(lookup(&name, env, unset));
    }
    let colon = op1 == ':';
    if colon {
        *pos += 1;
    }
    let Some(&op) = c.get(*pos) else {
        return Err(InterpError::Invalid(whole.to_string()));
    };
    if !matches!(op, '-' | '?' | '+') {
        return Err(InterpError::Invalid(whole.to_string()));
    }
    *pos += 1;
    let value = env.get(&name);
    // `:` also treats an empty value as missing.
    let present = match value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    // The argument is expanded only when it is used, so `${A:-${B:?x}}` fails only without A.
    let used = match op {
        '-' => !present,
        '+' => present,
        _ => !present,
    };
    let arg = if used {
        let mut scratch = Vec::new();
        let a = expand_until(c, pos, env, &mut scratch, true, whole)?;
        unset.extend(
            scratch
                .into_iter()
                .filter(|n| !unset.contains(n))
                .collect::<Vec<_>>(),
        );
        a
    } else {
        skip_to_close(c, pos, whole)?;
        String::new()
    };
    // expand_until stopped on the closing brace.
    *pos += 1;
    match op {
        '-' => Ok(if present {
            value.cloned().unwrap_or_default()
        } else {
            arg
        }),
        '+' => Ok(if present { arg } else { String::new() }),
        _ => {
            if present {
                Ok(value.cloned().unwrap_or_default())
            } else {
                Err(InterpError::Required {
                    var: name,
                    msg: arg,
                })
            }
        }
    }
}

/// Moves `pos` onto the `}` that closes the current template, minding nested `${...}`.
fn skip_to_close(c: &[char], pos: &mut usize, whole: &str) -> Result<(), InterpError> {
    let mut depth = 0usize;
    while *pos < c.len() {
        match c[*pos] {
            '$' if c.get(*pos + 1) == Some(&'$') => *pos += 1,
            '$' if c.get(*pos + 1) == Some(&'{') => {
                depth += 1;
                *pos += 1;
            }
            '{' => depth += 1,
            '}' if depth == 0 => return Ok(()),
            '}' => depth -= 1,
            _ => {}
        }
        *pos += 1;
    }
    Err(InterpError::Invalid(whole.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        [("FOO", "first"), ("BAR", ""), ("N", "3")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn x(s: &str) -> Result<String, InterpError> {
        expand(s, &env(), &mut Vec::new())
    }

    #[test]
    fn forms() {
        assert_eq!(x("${FOO}-$FOO-$$FOO").expect("ok"), "first-first-$FOO");
        assert_eq!(x("${BAR:-d}|${BAR-d}|${NO-d}").expect("ok"), "d||d");
        assert_eq!(
            x("${FOO:+alt}|${BAR:+alt}|${BAR+alt}").expect("ok"),
            "alt||alt"
        );
        assert_eq!(x("${NO:-${FOO}x}").expect("ok"), "firstx");
        assert_eq!(x("${NO:-${NO2:-deep}}").expect("ok"), "deep");
        assert_eq!(x("cost $ 5 and $").expect("ok"), "cost $ 5 and $");
    }

    #[test]
    fn unset_is_blank_and_reported() {
        let mut unset = Vec::new();
        assert_eq!(expand("a${NOPE}b", &env(), &mut unset).expect("ok"), "ab");
        assert_eq!(unset, ["NOPE"]);
    }

    #[test]
    fn required() {
        assert_eq!(
            x("${BAR:?must be set}").expect_err("required").to_string(),
            "required variable BAR is missing a value: must be set"
        );
        assert_eq!(x("${BAR?x}").expect("empty is set"), "");
        assert_eq!(
            x("${NO?}").expect_err("required").to_string(),
            "required variable NO is missing a value"
        );
        // The default is not evaluated when it is not used.
        assert_eq!(x("${FOO:-${NO:?x}}").expect("ok"), "first");
    }

    /// compose-go's template tests, kept as data.
    #[test]
    fn compose_go_template_cases() {
        let data: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/compose/templates.json"
        ))
        .expect("valid JSON");
        let env: BTreeMap<String, String> = data["env"]
            .as_object()
            .expect("env")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_string()))
            .collect();
        let mut failures = Vec::new();
        for case in data["ok"].as_array().expect("ok") {
            let (t, want) = (case[0].as_str().expect("t"), case[1].as_str().expect("w"));
            match expand(t, &env, &mut Vec::new()) {
                Ok(got) if got == want => {}
                other => failures.push(format!("{t:?}: {other:?}, want {want:?}")),
            }
        }
        for case in data["errors"].as_array().expect("errors") {
            let (t, want) = (case[0].as_str().expect("t"), case[1].as_str().expect("w"));
            match expand(t, &env, &mut Vec::new()) {
                Err(e) if e.to_string().contains(want) => {}
                other => failures.push(format!("{t:?}: {other:?}, want error {want:?}")),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn invalid() {
        assert!(matches!(x("${FOO"), Err(InterpError::Invalid(_))));
        assert!(matches!(x("${}"), Err(InterpError::Invalid(_))));
        assert!(matches!(x("${FOO:-x"), Err(InterpError::Invalid(_))));
        assert!(matches!(x("${FOO!x}"), Err(InterpError::Invalid(_))));
    }
}
