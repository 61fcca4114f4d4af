//! BuildKit's variable expansion and word splitting for Dockerfile instructions
//! (`frontend/dockerfile/shell/lex.go`: `ProcessWord` and `ProcessWords`).
//!
//! Supported: `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`,
//! `${VAR+word}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`,
//! `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`; single and double quotes; the
//! escape character (`\`, or `` ` `` under `# escape=`). Like BuildKit, positional and
//! special parameters (`$1`, `$@`, `$$`...) are read as names (normally unset), and a
//! command substitution or arithmetic is not a thing here: it is text.

use std::fmt;

/// A word BuildKit's lexer refuses: an unterminated quote, a bad `${}`, a `${VAR:?}` whose
/// variable is unset, an invalid pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError {
    /// The word as written.
    pub word: String,
    /// What is wrong with it, in BuildKit's words.
    pub message: String,
}

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to process {:?}: {}", self.word, self.message)
    }
}

impl std::error::Error for ExpandError {}

/// `word` with its variables replaced and its quotes and escapes removed, as one string
/// (BuildKit's `ProcessWord`: spaces between words are kept).
pub fn expand(
    word: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<String, ExpandError> {
    Lexer::new(escape, vars)
        .process(word)
        .map(|(result, _)| result)
}

/// `word` expanded and then split into words at unquoted white space (BuildKit's
/// `ProcessWords`): a variable's value is split too unless it was quoted.
pub fn expand_words(
    word: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<Vec<String>, ExpandError> {
    Lexer::new(escape, vars)
        .process(word)
        .map(|(_, words)| words)
}

/// A here-document's body expanded as BuildKit does for an unquoted delimiter in COPY/ADD:
/// variables replaced, quotes left alone, `\` as the escape whatever `# escape=` says.
pub fn expand_heredoc(
    content: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut lexer = Lexer::new('\\', vars);
    lexer.skip_quotes = true;
    lexer.process(content).map(|(result, _)| result)
}

/// No variable is set: for lexing words without expanding them.
pub(crate) fn no_vars(_: &str) -> Option<String> {
    None
}

/// The lexer with BuildKit's knobs (`RawQuotes`, `RawEscapes`, `SkipUnsetEnv`,
/// `SkipProcessQuotes`), which the parser needs to find here-documents.
pub(crate) struct Lexer<'v> {
    escape: char,
    vars: &'v dyn Fn(&str) -> Option<String>,
    /// Keep quote characters in the result.
    pub raw_quotes: bool,
    /// Keep escape characters in the result.
    pub raw_escapes: bool,
    /// Leave unset variables as written.
    pub skip_unset: bool,
    /// Quotes are ordinary characters.
    pub skip_quotes: bool,
    chars: Vec<char>,
    pos: usize,
}

/// Words being built by `ProcessWords`: white space from expansions splits, quoted text
/// and escaped characters do not.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }

    fn add_raw_char(&mut self, ch: char) {
        self.buf.push(ch);
        self.in_word = true;
    }

    fn add_string(&mut self, text: &str) {
        text.chars().for_each(|ch| self.add_char(ch));
    }

    fn add_raw_string(&mut self, text: &str) {
        self.buf.push_str(text);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

const MISSING_BRACE: &str = "syntax error: missing '}'";

impl<'v> Lexer<'v> {
    pub(crate) fn new(escape: char, vars: &'v dyn Fn(&str) -> Option<String>) -> Self {
        Lexer {
            escape,
            vars,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset: false,
            skip_quotes: false,
            chars: Vec::new(),
            pos: 0,
        }
    }

    /// The word as one string and as split words.
    pub(crate) fn process(&mut self, word: &str) -> Result<(String, Vec<String>), ExpandError> {
        self.chars = word.chars().collect();
        self.pos = 0;
        let raw = self.raw_escapes;
        self.stop_on(None, raw).map_err(|message| ExpandError {
            word: word.to_string(),
            message,
        })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek();
        if ch.is_some() {
            self.pos += 1;
        }
        ch
    }

    /// Reads up to `stop` (consumed) or the end; `raw_escapes` holds inside this call.
    fn stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.stop_on_inner(stop);
        self.raw_escapes = saved;
        result
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let text = self.dollar()?;
                    result.push_str(&text);
                    words.add_string(&text);
                }
                '<' => {
                    let text = self.possible_heredoc();
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                '\'' if !self.skip_quotes => {
                    let text = self.single_quote()?;
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                '"' if !self.skip_quotes => {
                    let text = self.double_quote()?;
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                _ => {
                    self.pos += 1;
                    if ch == self.escape {
                        if self.raw_escapes {
                            words.add_raw_char(ch);
                            result.push(ch);
                        }
                        // An escape at the very end is dropped.
                        let Some(escaped) = self.next() else { break };
                        words.add_raw_char(escaped);
                        result.push(escaped);
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let quote = self.next();
        if self.raw_quotes {
            result.extend(quote);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(ch) => result.push(ch),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let quote = self.next();
        if self.raw_quotes {
            result.extend(quote);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.pos += 1;
                    if self.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => result.push_str(&self.dollar()?),
                Some(mut ch) => {
                    self.pos += 1;
                    if ch == self.escape {
                        if self.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            // Only these can be escaped inside double quotes; any other
                            // escape stays as written.
                            Some(next) if next == '"' || next == '$' || next == self.escape => {
                                self.pos += 1;
                                ch = next;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn var(&self, name: &str) -> Option<String> {
        (self.vars)(name)
    }

    fn dollar(&mut self) -> Result<String, String> {
        self.pos += 1; // '$'
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.var(&name) {
                Some(value) => value,
                None if self.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1; // '{'
        match self.peek() {
            None => return Err(MISSING_BRACE.into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        let Some(mut op) = self.next() else {
            return Err(MISSING_BRACE.into());
        };
        let mut modifier = op.to_string();
        let mut null_is_unset = false;
        match op {
            '}' => {
                return Ok(match self.var(&name) {
                    Some(value) => value,
                    None if self.skip_unset => format!("${{{name}}}"),
                    None => String::new(),
                });
            }
            '/' => return self.replace(&name),
            ':' => {
                null_is_unset = true;
                let Some(next) = self.next() else {
                    return Err(MISSING_BRACE.into());
                };
                op = next;
                modifier.push(op);
            }
            '+' | '-' | '?' | '#' | '%' => {}
            _ => return Err(format!("unsupported modifier ({modifier}) in substitution")),
        }
        // Patterns keep their escapes so that `\*` stays a literal star.
        let pattern_op = op == '#' || op == '%';
        if null_is_unset && pattern_op {
            return Err(format!("unsupported modifier ({modifier}) in substitution"));
        }
        let word = match self.stop_on(Some('}'), pattern_op) {
            Ok((word, _)) => word,
            Err(_) if self.peek().is_none() => return Err(MISSING_BRACE.into()),
            Err(e) => return Err(e),
        };
        let value = self.var(&name);
        if self.skip_unset && value.is_none() {
            return Ok(format!("${{{name}{modifier}{word}}}"));
        }
        let unset_or_null = match &value {
            None => true,
            Some(v) => null_is_unset && v.is_empty(),
        };
        match op {
            '-' => Ok(if unset_or_null {
                word
            } else {
                value.unwrap_or_default()
            }),
            '+' => Ok(if unset_or_null { String::new() } else { word }),
            '?' => match value {
                Some(v) if !unset_or_null => Ok(v),
                Some(_) | None => {
                    let message = if !word.is_empty() {
                        word
                    } else if value.is_none() {
                        "is not allowed to be unset".into()
                    } else {
                        "is not allowed to be empty".into()
                    };
                    Err(format!("{name}: {message}"))
                }
            },
            '#' | '%' => {
                let (greedy, pattern) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest),
                    None => (false, word.as_str()),
                };
                let value = value.unwrap_or_default();
                let pattern = Pattern::parse(pattern)?;
                Ok(if op == '#' {
                    pattern.trim_prefix(&value, greedy)
                } else {
                    pattern.trim_suffix(&value, greedy)
                })
            }
            _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`, after the first `/`.
    fn replace(&mut self, name: &str) -> Result<String, String> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pattern = match self.stop_on(Some('/'), true) {
            Ok((pattern, _)) => pattern,
            Err(_) if self.peek().is_none() => {
                return Err("syntax error: missing '/' in ${}".into())
            }
            Err(e) => return Err(e),
        };
        let replacement = match self.stop_on(Some('}'), true) {
            Ok((replacement, _)) => replacement,
            Err(_) if self.peek().is_none() => return Err(MISSING_BRACE.into()),
            Err(e) => return Err(e),
        };
        let Some(value) = self.var(name) else {
            if self.skip_unset {
                return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
            }
            return Ok(String::new());
        };
        let compiled = Pattern::parse(&pattern)?;
        Ok(compiled.replace(&value, &replacement, all))
    }

    /// A variable name: letters, digits and `_`; or a run of digits (positional); or one
    /// special parameter character.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_ascii_digit() {
                while let Some(digit) = self.peek().filter(char::is_ascii_digit) {
                    self.pos += 1;
                    name.push(digit);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return ch.to_string();
            }
            if !(ch.is_alphanumeric() || ch == '_') {
                break;
            }
            self.pos += 1;
            name.push(ch);
        }
        name
    }

    /// `<<` (with the blanks after it) is kept as one piece so a here-document marker is
    /// one word.
    fn possible_heredoc(&mut self) -> String {
        self.pos += 1;
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.pos += 1;
        let mut result = String::from("<<");
        while let Some(ch) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            self.pos += 1;
            result.push(ch);
        }
        result
    }
}

/// A shell pattern of `${VAR#pat}` and friends: `*` any run, `?` any one character, `\`
/// quoting `*`, `?` and `\` (and dropped before `}` and `/`). Like BuildKit's regexp
/// translation, wildcards do not match a newline.
struct Pattern(Vec<PatternToken>);

#[derive(Clone, Copy, PartialEq)]
enum PatternToken {
    Star,
    One,
    Literal(char),
}

impl Pattern {
    fn parse(pattern: &str) -> Result<Pattern, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(ch) = chars.next() {
            tokens.push(match ch {
                '*' => PatternToken::Star,
                '?' => PatternToken::One,
                '\\' => match chars.peek() {
                    Some('}' | '/') => continue,
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        PatternToken::Literal(next)
                    }
                    other => {
                        let shown: String = other.map(|c| c.to_string()).unwrap_or_default();
                        return Err(format!(
                            "invalid pattern ({pattern}) in substitution: invalid escape '\\{shown}'"
                        ));
                    }
                },
                other => PatternToken::Literal(other),
            });
        }
        Ok(Pattern(tokens))
    }

    /// The lengths (in chars) of the prefixes of `text` the whole pattern matches, in
    /// increasing order (a simulation of the pattern's automaton: linear in text × pattern).
    fn prefix_matches(tokens: &[PatternToken], text: &[char]) -> Vec<usize> {
        let n = tokens.len();
        let close = |states: &mut Vec<bool>| {
            for i in 0..n {
                if states[i] && tokens[i] == PatternToken::Star {
                    states[i + 1] = true;
                }
            }
        };
        let mut states = vec![false; n + 1];
        states[0] = true;
        close(&mut states);
        let mut ends = Vec::new();
        if states[n] {
            ends.push(0);
        }
        for (at, &ch) in text.iter().enumerate() {
            let mut next = vec![false; n + 1];
            let mut any = false;
            for i in 0..n {
                if !states[i] {
                    continue;
                }
                match tokens[i] {
                    PatternToken::Star if ch != '\n' => next[i] = true,
                    PatternToken::One if ch != '\n' => next[i + 1] = true,
                    PatternToken::Literal(l) if l == ch => next[i + 1] = true,
                    _ => continue,
                }
                any = true;
            }
            if !any {
                break;
            }
            close(&mut next);
            if next[n] {
                ends.push(at + 1);
            }
            states = next;
        }
        ends
    }

    fn pick(ends: &[usize], greedy: bool) -> Option<usize> {
        if greedy {
            ends.last().copied()
        } else {
            ends.first().copied()
        }
    }

    fn trim_prefix(&self, value: &str, greedy: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        match Self::pick(&Self::prefix_matches(&self.0, &chars), greedy) {
            Some(len) => chars[len..].iter().collect(),
            None => value.to_string(),
        }
    }

    fn trim_suffix(&self, value: &str, greedy: bool) -> String {
        // A suffix match is a prefix match of both reversed.
        let tokens: Vec<PatternToken> = self.0.iter().rev().copied().collect();
        let reversed: Vec<char> = value.chars().rev().collect();
        match Self::pick(&Self::prefix_matches(&tokens, &reversed), greedy) {
            Some(len) => {
                let keep = reversed.len() - len;
                value.chars().take(keep).collect()
            }
            None => value.to_string(),
        }
    }

    /// The leftmost, then longest, match at or after `from`.
    fn find(&self, chars: &[char], from: usize) -> Option<(usize, usize)> {
        (from..=chars.len()).find_map(|start| {
            Self::prefix_matches(&self.0, &chars[start..])
                .last()
                .map(|len| (start, start + len))
        })
    }

    fn replace(&self, value: &str, replacement: &str, all: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let mut copied = 0;
        let mut from = 0;
        while let Some((start, end)) = self.find(&chars, from) {
            out.extend(&chars[copied..start]);
            out.push_str(replacement);
            copied = end;
            if !all {
                break;
            }
            if end == start {
                // An empty match: step over one character so the search moves on.
                if end >= chars.len() {
                    break;
                }
                out.push(chars[end]);
                copied = end + 1;
                from = end + 1;
            } else {
                from = end;
            }
        }
        out.extend(&chars[copied.min(chars.len())..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn run(word: &str, vars: &HashMap<String, String>) -> Result<String, ExpandError> {
        expand(word, &|name| vars.get(name).cloned(), '\\')
    }

    /// BuildKit's `envVarTest` table (frontend/dockerfile/shell/envVarTest), kept verbatim
    /// as data: `platform|input|expected`, `A` all, `U` unix, `W` windows (skipped).
    #[test]
    fn buildkit_env_var_vectors() {
        let data = include_str!("testdata/env_var_test.txt");
        let vars = env(&[
            ("PWD", "/home"),
            ("SHELL", "bash"),
            ("KOREAN", "한국어"),
            ("NULL", ""),
        ]);
        let mut checked = 0;
        for (number, line) in data.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.trim().split('|').collect();
            assert_eq!(fields.len(), 3, "line {}: {line}", number + 1);
            let (platform, input, expected) =
                (fields[0].trim(), fields[1].trim(), fields[2].trim());
            if platform == "W" {
                continue;
            }
            let got = run(input, &vars);
            if expected == "error" {
                assert!(got.is_err(), "line {}: {input:?} gave {got:?}", number + 1);
            } else {
                assert_eq!(
                    got.as_deref(),
                    Ok(expected),
                    "line {}: {input:?}",
                    number + 1
                );
            }
            checked += 1;
        }
        assert!(checked > 200, "only {checked} vectors read");
    }

    /// BuildKit's `wordsTest` table (frontend/dockerfile/shell/wordsTest) as data:
    /// `ENV k=v` lines add a variable, `input | w1,w2` expects those words.
    #[test]
    fn buildkit_words_vectors() {
        let data = include_str!("testdata/words_test.txt");
        let mut vars = HashMap::new();
        let mut checked = 0;
        for (number, line) in data.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            if let Some(assignment) = line.strip_prefix("ENV ") {
                let assignment = assignment.trim_start_matches(' ');
                let (k, v) = assignment.split_once('=').unwrap_or((assignment, ""));
                vars.insert(k.to_string(), v.to_string());
                continue;
            }
            let (input, expected) = line.split_once('|').expect("one | per line");
            let input = input.trim();
            let expected: Vec<&str> = expected.trim_start_matches(' ').split(',').collect();
            let got = expand_words(input, &|name| vars.get(name).cloned(), '\\')
                .unwrap_or_else(|_| vec!["error".into()]);
            assert_eq!(got, expected, "line {}: {input:?}", number + 1);
            checked += 1;
        }
        assert!(checked > 10, "only {checked} vectors read");
    }

    /// BuildKit's pattern cases (TestProcessWithMatches in lex_test.go) as data:
    /// `VAR=value;VAR=value<TAB>input<TAB>expected` (`error` for an error).
    #[test]
    fn buildkit_pattern_vectors() {
        let data = include_str!("testdata/pattern_test.txt");
        let mut checked = 0;
        for (number, line) in data.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.splitn(3, '\t').collect();
            assert_eq!(fields.len(), 3, "line {}: {line}", number + 1);
            let vars: HashMap<String, String> = fields[0]
                .split(';')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("VAR=value");
                    (k.to_string(), v.to_string())
                })
                .collect();
            let got = run(fields[1], &vars);
            if fields[2] == "error" {
                assert!(
                    got.is_err(),
                    "line {}: {:?} gave {got:?}",
                    number + 1,
                    fields[1]
                );
            } else {
                assert_eq!(
                    got.as_deref(),
                    Ok(fields[2]),
                    "line {}: {:?}",
                    number + 1,
                    fields[1]
                );
            }
            checked += 1;
        }
        assert!(checked > 30, "only {checked} vectors read");
    }

    #[test]
    fn mandatory_variables_carry_the_message() {
        let set = env(&[("VAR", "plain"), ("ARG", "x")]);
        let empty = env(&[("VAR", ""), ("ARG", "x")]);
        let unset = env(&[("ARG", "x")]);
        assert_eq!(run("${VAR:?message here$ARG}", &set).unwrap(), "plain");
        let err = run("${VAR:?message here$ARG}", &empty).unwrap_err();
        assert!(err.message.contains("message herex"), "{err}");
        assert!(run("${VAR:?message here$ARG}", &unset).is_err());
        assert_eq!(run("${VAR?message here$ARG}", &empty).unwrap(), "");
        let err = run("${VAR?}", &unset).unwrap_err();
        assert_eq!(err.message, "VAR: is not allowed to be unset");
        assert_eq!(
            err.to_string(),
            "failed to process \"${VAR?}\": VAR: is not allowed to be unset"
        );
    }

    #[test]
    fn backtick_is_the_escape_under_the_directive() {
        let vars = env(&[("A", "x")]);
        let get = |name: &str| vars.get(name).cloned();
        assert_eq!(expand("`$A$A", &get, '`').unwrap(), "$Ax");
        assert_eq!(expand(r"C:\dir\$A", &get, '`').unwrap(), r"C:\dir\x");
        assert_eq!(expand("\"a`\"b\"", &get, '`').unwrap(), "a\"b");
    }

    #[test]
    fn heredoc_bodies_keep_quotes() {
        let vars = env(&[("A", "x")]);
        let got = expand_heredoc("echo \"$A\" '$A' \\$A\n", &|n| vars.get(n).cloned());
        assert_eq!(got.unwrap(), "echo \"x\" 'x' $A\n");
    }
}
