//! The Dockerfile's lines, as BuildKit's line parser (`frontend/dockerfile/parser`) reads
//! them: parser directives, comments, continuation lines with the escape character, here-
//! documents, and each instruction's keyword, `--flags` and arguments. The meaning of each
//! instruction is [`super::dockerfile`]'s.

use super::expand::{no_vars, Lexer};

/// Where a line-level error is: the first and last line (1-based) and BuildKit's message.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// The parser directives at the top of the file.
#[derive(Debug, Default)]
pub(crate) struct Directives {
    pub escape: Option<char>,
    pub syntax: Option<String>,
    pub check: Option<String>,
}

/// A here-document attached to an instruction.
#[derive(Debug, Clone)]
pub(crate) struct RawHeredoc {
    pub name: String,
    /// The body, line endings kept, tabs not yet stripped.
    pub content: String,
    pub expand: bool,
    pub chomp: bool,
}

/// One instruction: a logical line (continuations joined) and its here-documents.
#[derive(Debug, Clone)]
pub(crate) struct RawInstruction {
    pub start_line: usize,
    pub end_line: usize,
    /// The keyword as written (`run`, `RUN`).
    pub keyword: String,
    /// `--name[=value]` words before the arguments, quotes and escapes removed.
    pub flags: Vec<String>,
    /// The rest of the line after the keyword and flags, trimmed.
    pub rest: String,
    /// The logical line as written, continuations joined, trimmed.
    pub original: String,
    pub heredocs: Vec<RawHeredoc>,
}

/// The file split into directives and instructions.
pub(crate) struct Lines {
    pub directives: Directives,
    pub escape: char,
    pub instructions: Vec<RawInstruction>,
}

const BOM: char = '\u{feff}';

/// Instructions that may carry here-documents (directly or under ONBUILD).
fn takes_heredocs(keyword: &str) -> bool {
    matches!(
        keyword.to_ascii_lowercase().as_str(),
        "run" | "copy" | "add"
    )
}

/// Splits `text` into physical lines, each without its line ending.
fn physical_lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .collect()
}

/// The directive parser: `# name=value` lines before anything else.
struct DirectiveReader {
    done: bool,
    directives: Directives,
}

impl DirectiveReader {
    /// Reads one line (left-trimmed); true when it was a directive.
    fn read(&mut self, line: &str) -> Result<bool, String> {
        if self.done {
            return Ok(false);
        }
        let Some(body) = line.strip_prefix('#') else {
            self.done = true;
            return Ok(false);
        };
        let body = body.trim_start();
        let name_len = body
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map_or(body.len(), |(i, _)| i);
        let (name, after) = body.split_at(name_len);
        let value = after.trim_start().strip_prefix('=').map(str::trim);
        let (Some(value), false) = (value, name.is_empty()) else {
            self.done = true;
            return Ok(false);
        };
        if value.is_empty() {
            self.done = true;
            return Ok(false);
        }
        let key = name.to_ascii_lowercase();
        let slot = match key.as_str() {
            "escape" => {
                if self.directives.escape.is_some() {
                    return Err(format!("only one {key} parser directive can be used"));
                }
                let token = match value {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(format!(
                            "invalid escape token '{value}' does not match ` or \\"
                        ))
                    }
                };
                self.directives.escape = Some(token);
                return Ok(true);
            }
            "syntax" => &mut self.directives.syntax,
            "check" => &mut self.directives.check,
            _ => {
                self.done = true;
                return Ok(false);
            }
        };
        if slot.is_some() {
            return Err(format!("only one {key} parser directive can be used"));
        }
        *slot = Some(value.to_string());
        Ok(true)
    }
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// The line without its continuation mark, or None when it does not continue: the escape
/// character last (blanks after it allowed), not itself escaped.
fn strip_continuation(line: &str, escape: char) -> Option<&str> {
    let trimmed = line.trim_end_matches([' ', '\t']);
    let before = trimmed.strip_suffix(escape)?;
    if before.ends_with(escape) {
        return None;
    }
    Some(before)
}

/// Reads the whole file.
pub(crate) fn read_lines(text: &str) -> Result<Lines, SyntaxError> {
    let lines = physical_lines(text);
    let mut reader = DirectiveReader {
        done: false,
        directives: Directives::default(),
    };
    let mut instructions = Vec::new();
    let mut at = 0; // index of the next physical line
    while at < lines.len() {
        let first = lines[at].trim_start();
        let line_number = at + 1;
        at += 1;
        reader.read(first).map_err(|message| SyntaxError {
            line: line_number,
            message,
        })?;
        let escape = reader.directives.escape.unwrap_or('\\');
        if is_comment(first) {
            continue;
        }
        let (mut logical, mut ends) = match strip_continuation(first, escape) {
            Some(part) => (part.to_string(), false),
            None => (first.to_string(), true),
        };
        if ends && logical.is_empty() {
            continue;
        }
        reader.done = true;
        while !ends && at < lines.len() {
            let next = lines[at];
            at += 1;
            // Comment lines and blank lines inside a continuation are skipped.
            if is_comment(next) || next.trim().is_empty() {
                continue;
            }
            match strip_continuation(next, escape) {
                Some(part) => logical.push_str(part),
                None => {
                    logical.push_str(next);
                    ends = true;
                }
            }
        }
        let mut instruction = split_instruction(&logical, escape, line_number, at)?;
        if instruction_takes_heredocs(&instruction) && logical.contains("<<") {
            for marker in heredoc_markers(&logical) {
                let mut content = String::new();
                let mut terminated = false;
                while at < lines.len() {
                    let body = lines[at];
                    at += 1;
                    let candidate = if marker.chomp {
                        body.trim_start_matches('\t')
                    } else {
                        body
                    };
                    if candidate == marker.name {
                        terminated = true;
                        break;
                    }
                    content.push_str(body);
                    content.push('\n');
                }
                if !terminated {
                    return Err(SyntaxError {
                        line: line_number,
                        message: "unterminated heredoc".into(),
                    });
                }
                instruction.heredocs.push(RawHeredoc { content, ..marker });
            }
        }
        instruction.end_line = at;
        instructions.push(instruction);
    }
    let escape = reader.directives.escape.unwrap_or('\\');
    Ok(Lines {
        directives: reader.directives,
        escape,
        instructions,
    })
}

/// Whether the instruction (or ONBUILD's inner one) may have here-documents: RUN, COPY or
/// ADD not in JSON form.
fn instruction_takes_heredocs(instruction: &RawInstruction) -> bool {
    let (keyword, rest) = if instruction.keyword.eq_ignore_ascii_case("onbuild") {
        let mut parts = instruction.rest.splitn(2, char::is_whitespace);
        let inner = parts.next().unwrap_or_default();
        (inner, parts.next().unwrap_or_default().trim())
    } else {
        (instruction.keyword.as_str(), instruction.rest.as_str())
    };
    takes_heredocs(keyword) && parse_json_array(rest).is_none()
}

/// Splits a logical line into keyword, flags and the rest.
fn split_instruction(
    line: &str,
    escape: char,
    start_line: usize,
    end_line: usize,
) -> Result<RawInstruction, SyntaxError> {
    let trimmed = line.trim();
    let (keyword, after) = match trimmed.find(is_blank) {
        Some(i) => (&trimmed[..i], trimmed[i..].trim_start_matches(is_blank)),
        None => (trimmed, ""),
    };
    let (rest, flags) = extract_flags(after, escape);
    Ok(RawInstruction {
        start_line,
        end_line,
        keyword: keyword.to_string(),
        flags,
        rest: rest.trim().to_string(),
        original: trimmed.to_string(),
        heredocs: Vec::new(),
    })
}

/// BuildKit's separator between the keyword and its arguments.
fn is_blank(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Splits the leading `--flag[=value]` words off `line` (quotes and escapes inside a flag
/// word removed; `--` alone ends the flags), returning the rest and the flags.
pub(crate) fn extract_flags(line: &str, escape: char) -> (&str, Vec<String>) {
    let mut flags = Vec::new();
    let mut rest = line;
    loop {
        let start = rest.trim_start();
        if !start.starts_with("--") {
            return (start, flags);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut blank_ok = false;
        let mut chars = start.char_indices().peekable();
        let mut end = start.len();
        while let Some((i, c)) = chars.next() {
            match quote {
                None if c.is_whitespace() => {
                    end = i;
                    break;
                }
                None if c == '\'' || c == '"' => {
                    quote = Some(c);
                    blank_ok = true;
                }
                Some(q) if c == q => quote = None,
                _ if c == escape => {
                    if let Some((_, next)) = chars.next() {
                        word.push(next);
                    }
                }
                _ => word.push(c),
            }
        }
        rest = &start[end..];
        if word == "--" {
            return (rest.trim_start(), flags);
        }
        if blank_ok || !word.is_empty() {
            flags.push(word);
        }
    }
}

/// A JSON array of strings (exec form), or None when the text is not one. Some(Err) for an
/// array holding something else than strings, which BuildKit refuses.
pub(crate) fn parse_json_array(text: &str) -> Option<Result<Vec<String>, String>> {
    let text = text.trim_start();
    if !text.starts_with('[') {
        return None;
    }
    let values: Vec<serde_json::Value> = serde_json::from_str(text).ok()?;
    Some(
        values
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(
                    "when using JSON array syntax, arrays must be comprised of strings only"
                        .to_string(),
                ),
            })
            .collect(),
    )
}

/// The here-document markers (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) among the line's
/// words, in order, without bodies.
fn heredoc_markers(line: &str) -> Vec<RawHeredoc> {
    let mut lexer = Lexer::new('\\', &no_vars);
    lexer.raw_quotes = true;
    lexer.raw_escapes = true;
    lexer.skip_unset = true;
    let words = lexer
        .process(line)
        .map(|(_, words)| words)
        .unwrap_or_default();
    words.iter().filter_map(|w| parse_heredoc_word(w)).collect()
}

/// A here-document marker word: `[fd]<<[-][blanks]word` where word has no `<`.
pub(crate) fn parse_heredoc_word(word: &str) -> Option<RawHeredoc> {
    let after_fd = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let after = after_fd.strip_prefix("<<")?;
    let (chomp, after) = match after.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    let rest = after.trim_start();
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    // The name is the word unquoted; quotes anywhere in it turn expansion off.
    let mut lexer = Lexer::new('\\', &no_vars);
    lexer.skip_unset = true;
    let plain = lexer.process(rest).ok()?.1;
    if plain.len() != 1 {
        return None;
    }
    lexer.raw_quotes = true;
    let raw = lexer.process(rest).ok()?.1;
    if raw.len() != 1 {
        return None;
    }
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    Some(RawHeredoc {
        expand: quotes(&plain[0]) == quotes(&raw[0]),
        name: plain[0].clone(),
        content: String::new(),
        chomp,
    })
}

/// BuildKit's word splitting for ENV, LABEL and ARG: blanks separate words, quotes group
/// and are kept, the escape character keeps the next character (and is kept too).
pub(crate) fn split_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut blank_ok = false;
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let last = i + 1 == chars.len();
        match quote {
            None => {
                if c.is_whitespace() {
                    if in_word && (blank_ok || !word.is_empty()) {
                        words.push(std::mem::take(&mut word));
                    }
                    word.clear();
                    in_word = false;
                    blank_ok = false;
                    i += 1;
                    continue;
                }
                in_word = true;
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    blank_ok = true;
                }
                if c == escape {
                    if last {
                        i += 1;
                        continue;
                    }
                    word.push(c);
                    i += 1;
                    word.push(chars[i]);
                    i += 1;
                    continue;
                }
                word.push(c);
            }
            Some(q) => {
                if c == q {
                    quote = None;
                }
                if c == escape && q != '\'' {
                    if last {
                        quote = None;
                        i += 1;
                        continue;
                    }
                    word.push(c);
                    i += 1;
                    word.push(chars[i]);
                    i += 1;
                    continue;
                }
                word.push(c);
            }
        }
        i += 1;
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_lose_quotes_and_stop_at_double_dash() {
        let (rest, flags) = extract_flags(r#"--mount="type=cache,target=/a b" --link x y"#, '\\');
        assert_eq!(flags, vec!["--mount=type=cache,target=/a b", "--link"]);
        assert_eq!(rest, "x y");
        let (rest, flags) = extract_flags("-- --not-a-flag /x", '\\');
        assert!(flags.is_empty());
        assert_eq!(rest, "--not-a-flag /x");
    }

    #[test]
    fn heredoc_words() {
        let h = parse_heredoc_word("<<EOF").unwrap();
        assert_eq!((h.name.as_str(), h.expand, h.chomp), ("EOF", true, false));
        let h = parse_heredoc_word("<<-'END'").unwrap();
        assert_eq!((h.name.as_str(), h.expand, h.chomp), ("END", false, true));
        let h = parse_heredoc_word("3<<\"A\"B").unwrap();
        assert_eq!((h.name.as_str(), h.expand), ("AB", false));
        assert!(parse_heredoc_word("<<").is_none());
        assert!(parse_heredoc_word("a<<b").is_none());
    }

    #[test]
    fn words_keep_quotes() {
        assert_eq!(
            split_words(r#"a="b c" d=e\ f 'g h'"#, '\\'),
            vec![r#"a="b c""#, r"d=e\ f", "'g h'"]
        );
    }
}
