//! The functions a template may call: Go's builtins and Docker's additions (`json`,
//! `split`, `join`, `title`, `lower`, `upper`, `pad`, `truncate`).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::exec::{go_number, go_type, print_value, show, truth};

/// Go's builtins, then Docker's.
const NAMES: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt",
    "le", "gt", "ge", "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];

/// Docker's own functions; in a table header they pass their first argument through.
const DOCKER: &[&str] = &[
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];

/// `pad` refuses to make more than this many blanks.
const MAX_PAD: i64 = 4096;

pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

type Args<'a, 'b> = &'b [Cow<'a, Value>];

/// Calls `name`; the error is the message Go would give after `at <...>: `.
pub fn call(name: &str, args: Args, header: bool) -> Result<Value, String> {
    if header && DOCKER.contains(&name) {
        return Ok(args.first().map(|a| a.as_ref().clone()).unwrap_or_default());
    }
    let result = match name {
        "and" => at_least(name, args, 1).map(|()| pick(args, |v| !truth(v))),
        "or" => at_least(name, args, 1).map(|()| pick(args, truth)),
        "not" => exactly(name, args, 1).map(|()| Value::Bool(!truth(&args[0]))),
        "len" => exactly(name, args, 1).and_then(|()| len(&args[0])),
        "index" => at_least(name, args, 1).and_then(|()| index(args)),
        "slice" => at_least(name, args, 1).and_then(|()| slice(args)),
        "print" => Ok(Value::String(sprint(args))),
        "println" => Ok(Value::String(sprintln(args))),
        "printf" => at_least(name, args, 1)
            .and_then(|()| string(&args[0]))
            .map(|f| Value::String(sprintf(&f, &args[1..]))),
        "eq" => compare_all(args, equal),
        "ne" => {
            exactly(name, args, 2).and_then(|()| equal(&args[0], &args[1]).map(|e| Value::Bool(!e)))
        }
        "lt" => ordered(name, args, |o| o == Ordering::Less),
        "le" => ordered(name, args, |o| o != Ordering::Greater),
        "gt" => ordered(name, args, |o| o == Ordering::Greater),
        "ge" => ordered(name, args, |o| o != Ordering::Less),
        "json" => exactly(name, args, 1).and_then(|()| {
            serde_json::to_string(args[0].as_ref())
                .map(Value::String)
                .map_err(|e| e.to_string())
        }),
        "split" => exactly(name, args, 2).and_then(|()| {
            let (s, sep) = (string(&args[0])?, string(&args[1])?);
            Ok(Value::from(split(&s, &sep)))
        }),
        "join" => exactly(name, args, 2).and_then(|()| join(&args[0], &string(&args[1])?)),
        "title" => {
            exactly(name, args, 1).and_then(|()| Ok(Value::String(title(&string(&args[0])?))))
        }
        "lower" => exactly(name, args, 1)
            .and_then(|()| Ok(Value::String(string(&args[0])?.to_lowercase()))),
        "upper" => exactly(name, args, 1)
            .and_then(|()| Ok(Value::String(string(&args[0])?.to_uppercase()))),
        "pad" => exactly(name, args, 3)
            .and_then(|()| pad(&string(&args[0])?, int(&args[1])?, int(&args[2])?)),
        "truncate" => {
            exactly(name, args, 2).and_then(|()| truncate(&string(&args[0])?, int(&args[1])?))
        }
        other => Err(format!("function {other:?} not defined")),
    };
    // Argument counts are reported as they are; failures inside, as Go's `error calling`.
    result.map_err(|e| {
        if e.starts_with("wrong number of args") {
            e
        } else {
            format!("error calling {name}: {e}")
        }
    })
}

fn exactly(name: &str, args: Args, n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

fn at_least(name: &str, args: Args, n: usize) -> Result<(), String> {
    if args.len() >= n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        ))
    }
}

/// `and`/`or`: the first argument `stop` says ends it, else the last.
fn pick(args: Args, stop: impl Fn(&Value) -> bool) -> Value {
    args.iter()
        .find(|a| stop(a.as_ref()))
        .or(args.last())
        .map(|a| a.as_ref().clone())
        .unwrap_or_default()
}

fn string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            go_type(other)
        )),
    }
}

fn int(value: &Value) -> Result<i64, String> {
    value
        .as_i64()
        .ok_or_else(|| format!("wrong type for value; expected int; got {}", go_type(value)))
}

fn len(value: &Value) -> Result<Value, String> {
    match value {
        Value::String(s) => Ok(s.len().into()),
        Value::Array(a) => Ok(a.len().into()),
        Value::Object(o) => Ok(o.len().into()),
        other => Err(format!("len of type {}", go_type(other))),
    }
}

fn index(args: Args) -> Result<Value, String> {
    let mut item = args[0].as_ref().clone();
    for key in &args[1..] {
        item = match (&item, key.as_ref()) {
            (Value::Null, _) => return Err("index of untyped nil".into()),
            (Value::Array(a), k) => {
                let i = k
                    .as_i64()
                    .ok_or_else(|| format!("cannot index slice/array with type {}", go_type(k)))?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| a.get(i))
                    .cloned()
                    .ok_or_else(|| format!("index out of range: {i}"))?
            }
            (Value::Object(o), Value::String(k)) => o.get(k).cloned().unwrap_or_default(),
            (Value::Object(_), k) => {
                return Err(format!("value has type {}; should be string", go_type(k)))
            }
            (other, _) => return Err(format!("can't index item of type {}", go_type(other))),
        };
    }
    Ok(item)
}

fn slice(args: Args) -> Result<Value, String> {
    if args.len() > 3 {
        return Err("too many slice indexes".into());
    }
    let bounds: Vec<i64> = args[1..].iter().map(|a| int(a)).collect::<Result<_, _>>()?;
    let len = match args[0].as_ref() {
        Value::String(s) => s.len(),
        Value::Array(a) => a.len(),
        other => return Err(format!("can't slice item of type {}", go_type(other))),
    };
    let start = bounds.first().copied().unwrap_or(0);
    let end = bounds.get(1).copied().unwrap_or(len as i64);
    let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
        return Err("index out of range".into());
    };
    if start > end || end > len {
        return Err(format!("index out of range: {end}"));
    }
    match args[0].as_ref() {
        Value::String(s) => s
            .get(start..end)
            .map(Value::from)
            .ok_or_else(|| "slice splits a character".into()),
        Value::Array(a) => Ok(Value::from(a[start..end].to_vec())),
        _ => Err("can't slice".into()),
    }
}

/// Go's `print`: a space between operands when neither is a string.
fn sprint(args: Args) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !arg.is_string() && !args[i - 1].is_string() {
            out.push(' ');
        }
        print_value(arg, &mut out);
    }
    out
}

/// Go's `println`: operands separated by spaces, then a newline.
fn sprintln(args: Args) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_value(arg, &mut out);
    }
    out.push('\n');
    out
}

/// Go's `printf` for the verbs a format string needs: %v %s %q %d %t %f %e %g %x %X %%,
/// with flags `-`, `0`, `+`, a width and a precision.
fn sprintf(format: &str, args: &[Cow<Value>]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut zero, mut plus) = (false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
            width.push(d);
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse::<usize>().unwrap_or(0).min(64));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let text = format_one(verb, arg, precision, plus)
            .unwrap_or_else(|| format!("%!{verb}({}={})", go_type(arg), show(arg)));
        let width: usize = width.parse::<usize>().unwrap_or(0).min(1024);
        let pad = width.saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if zero && arg.is_number() {
            let (sign, digits) = match text.strip_prefix(['-', '+']) {
                Some(d) => (&text[..1], d),
                None => ("", text.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&text);
        }
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", go_type(a), show(a)))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn format_one(verb: char, arg: &Value, precision: Option<usize>, plus: bool) -> Option<String> {
    let signed = |s: String| {
        if plus && !s.starts_with('-') {
            format!("+{s}")
        } else {
            s
        }
    };
    Some(match (verb, arg) {
        ('v', _) => signed(show(arg)),
        ('s', Value::String(s)) => match precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        },
        ('s', _) => show(arg),
        ('q', Value::String(s)) => serde_json::to_string(s).ok()?,
        ('t', Value::Bool(b)) => b.to_string(),
        ('d', Value::Number(n)) if !n.is_f64() => signed(go_number(n)),
        ('x' | 'X', Value::Number(n)) if !n.is_f64() => {
            let i = n.as_i64()?;
            let hex = format!("{:x}", i.unsigned_abs());
            let hex = if i < 0 { format!("-{hex}") } else { hex };
            if verb == 'X' {
                hex.to_uppercase()
            } else {
                hex
            }
        }
        ('x' | 'X', Value::String(s)) => {
            let hex = hex::encode(s.as_bytes());
            if verb == 'X' {
                hex.to_uppercase()
            } else {
                hex
            }
        }
        ('f' | 'F', Value::Number(n)) => {
            signed(format!("{:.*}", precision.unwrap_or(6), n.as_f64()?))
        }
        ('e', Value::Number(n)) => {
            let text = format!("{:.*e}", precision.unwrap_or(6), n.as_f64()?);
            let (mantissa, exp) = text.split_once('e')?;
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            signed(format!("{mantissa}e{sign}{digits:0>2}"))
        }
        ('g', Value::Number(n)) => signed(go_number(&serde_json::Number::from_f64(n.as_f64()?)?)),
        _ => return None,
    })
}

/// `eq a b c...`: a equals any of the others.
fn compare_all(
    args: Args,
    eq: impl Fn(&Value, &Value) -> Result<bool, String>,
) -> Result<Value, String> {
    let Some((first, rest)) = args.split_first().filter(|(_, r)| !r.is_empty()) else {
        return Err("missing argument for comparison".into());
    };
    for other in rest {
        if eq(first.as_ref(), other.as_ref())? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    match (a, b) {
        (Value::Null, Value::Null) => Ok(true),
        (Value::Null, _) | (_, Value::Null) => Ok(false),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::String(x), Value::String(y)) => Ok(x == y),
        (Value::Number(_), Value::Number(_)) => Ok(numbers(a, b) == Some(Ordering::Equal)),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
            Err("non-comparable type".into())
        }
        _ => Err("incompatible types for comparison".into()),
    }
}

fn numbers(a: &Value, b: &Value) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn ordered(name: &str, args: Args, want: impl Fn(Ordering) -> bool) -> Result<Value, String> {
    exactly(name, args, 2)?;
    let order = match (args[0].as_ref(), args[1].as_ref()) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Number(_), Value::Number(_)) => {
            numbers(&args[0], &args[1]).ok_or("incompatible types for comparison")?
        }
        (x, y) if std::mem::discriminant(x) == std::mem::discriminant(y) => {
            return Err("invalid type for comparison".into())
        }
        _ => return Err("incompatible types for comparison".into()),
    };
    Ok(Value::Bool(want(order)))
}

/// Go's `strings.Split`: an empty separator splits into characters.
fn split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        s.chars().map(String::from).collect()
    } else {
        s.split(sep).map(str::to_owned).collect()
    }
}

fn join(list: &Value, sep: &str) -> Result<Value, String> {
    let Value::Array(items) = list else {
        return Err(format!(
            "wrong type for value; expected []string; got {}",
            go_type(list)
        ));
    };
    let parts: Vec<String> = items.iter().map(show).collect();
    Ok(Value::String(parts.join(sep)))
}

/// Go's `strings.Title`: the first letter of each word in upper case.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_separator = true;
    for c in s.chars() {
        if after_separator {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        after_separator = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// Docker's `pad`: blanks before and after a non-empty string.
fn pad(s: &str, before: i64, after: i64) -> Result<Value, String> {
    if s.is_empty() {
        return Ok(Value::from(""));
    }
    let blanks = |n: i64| -> Result<String, String> {
        if !(0..=MAX_PAD).contains(&n) {
            return Err(format!("padding {n} out of range 0..{MAX_PAD}"));
        }
        Ok(" ".repeat(n as usize))
    };
    Ok(Value::String(format!(
        "{}{s}{}",
        blanks(before)?,
        blanks(after)?
    )))
}

/// Docker's `truncate`: at most `n` characters.
fn truncate(s: &str, n: i64) -> Result<Value, String> {
    let n = usize::try_from(n).map_err(|_| format!("negative length {n}"))?;
    Ok(Value::String(s.chars().take(n).collect()))
}
