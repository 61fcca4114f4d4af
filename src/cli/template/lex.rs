//! The lexer: a template becomes text runs and the tokens of its `{{ }}` actions.

use super::TemplateError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Literal text between actions (already trimmed by `{{-` / `-}}`).
    Text(String),
    Left,
    Right,
    /// A run of blanks inside an action: it separates arguments.
    Space,
    Dot,
    /// `.Name`: one step of a field chain.
    Field(String),
    /// `$name`, or `$` alone (the data the template was run on).
    Var(String),
    /// A function name or a keyword (`if`, `range`, `end`, ...).
    Ident(String),
    Str(String),
    Number(serde_json::Number),
    Bool(bool),
    Nil,
    Pipe,
    Open,
    Close,
    Declare,
    Assign,
    Comma,
    Eof,
}

/// A token and the byte offset in the template where it starts.
#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

pub fn lex(src: &str) -> Result<Vec<Token>, TemplateError> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
        trim_next_text: false,
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    /// The previous action ended with `-}}`: the next text loses its leading blanks.
    trim_next_text: bool,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn push(&mut self, tok: Tok, pos: usize) {
        self.tokens.push(Token { tok, pos });
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> TemplateError {
        TemplateError::on_line(self.src, pos, message.into())
    }

    fn run(&mut self) -> Result<(), TemplateError> {
        loop {
            let start = self.pos;
            let next = self.rest().find(LEFT).map(|i| start + i);
            let end = next.unwrap_or(self.src.len());
            // `{{- ` trims the blanks before it.
            let trim_left = next.is_some_and(|i| {
                let after = &self.src[i + LEFT.len()..];
                after.starts_with('-') && after[1..].starts_with(is_blank)
            });
            let mut text = &self.src[start..end];
            if self.trim_next_text {
                text = text.trim_start_matches(is_blank);
            }
            if trim_left {
                text = text.trim_end_matches(is_blank);
            }
            if !text.is_empty() {
                self.push(Tok::Text(text.to_owned()), start);
            }
            self.trim_next_text = false;
            let Some(left) = next else {
                self.push(Tok::Eof, self.src.len());
                return Ok(());
            };
            self.pos = left + LEFT.len() + if trim_left { 2 } else { 0 };
            if self.rest().starts_with("/*") {
                self.comment(left)?;
            } else {
                self.push(Tok::Left, left);
                self.action(left)?;
            }
        }
    }

    /// `{{/* ... */}}`: nothing is emitted; the closing delimiter must follow at once.
    fn comment(&mut self, left: usize) -> Result<(), TemplateError> {
        let Some(end) = self.rest().find("*/") else {
            return Err(self.error(left, "unclosed comment"));
        };
        self.pos += end + 2;
        if let Some(after) = self.right_delim() {
            self.pos = after;
            Ok(())
        } else {
            Err(self.error(self.pos, "comment ends before closing delimiter"))
        }
    }

    /// If the closing delimiter (`}}` or ` -}}`) starts here, the offset after it; sets
    /// the trim of the next text.
    fn right_delim(&mut self) -> Option<usize> {
        let rest = self.rest();
        if rest.starts_with(RIGHT) {
            return Some(self.pos + RIGHT.len());
        }
        let blanks = rest.len() - rest.trim_start_matches(is_blank).len();
        if blanks > 0 && rest[blanks..].starts_with("-}}") {
            self.trim_next_text = true;
            return Some(self.pos + blanks + 3);
        }
        None
    }

    fn action(&mut self, left: usize) -> Result<(), TemplateError> {
        // Parentheses are counted so a `}}` is not taken for the end inside them.
        loop {
            let pos = self.pos;
            if let Some(after) = self.right_delim() {
                self.push(Tok::Right, pos);
                self.pos = after;
                return Ok(());
            }
            let Some(c) = self.rest().chars().next() else {
                return Err(self.error(left, "unclosed action"));
            };
            match c {
                c if is_blank(c) => {
                    let blanks = self.rest().len() - self.rest().trim_start_matches(is_blank).len();
                    self.pos += blanks;
                    self.push(Tok::Space, pos);
                }
                '|' => self.single(Tok::Pipe),
                '(' => self.single(Tok::Open),
                ')' => self.single(Tok::Close),
                ',' => self.single(Tok::Comma),
                '=' => self.single(Tok::Assign),
                ':' if self.rest().starts_with(":=") => {
                    self.pos += 2;
                    self.push(Tok::Declare, pos);
                }
                '"' => {
                    let s = self.quoted()?;
                    self.push(Tok::Str(s), pos);
                }
                '`' => {
                    let Some(end) = self.rest()[1..].find('`') else {
                        return Err(self.error(pos, "unterminated raw quoted string"));
                    };
                    let s = self.rest()[1..1 + end].to_owned();
                    self.pos += end + 2;
                    self.push(Tok::Str(s), pos);
                }
                '\'' => {
                    let n = self.char_constant()?;
                    self.push(Tok::Number(n.into()), pos);
                }
                '$' => {
                    let name = self.word(1);
                    self.push(Tok::Var(name), pos);
                }
                '.' => {
                    let next = self.rest()[1..].chars().next();
                    if next.is_some_and(|c| c.is_ascii_digit()) {
                        self.number()?;
                    } else if next.is_some_and(is_word) {
                        let name = self.word(1);
                        self.push(Tok::Field(name[1..].to_owned()), pos);
                    } else {
                        self.single(Tok::Dot);
                    }
                }
                '+' | '-' | '0'..='9' => self.number()?,
                c if is_word(c) => {
                    let word = self.word(0);
                    let tok = match word.as_str() {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        _ => Tok::Ident(word),
                    };
                    self.push(tok, pos);
                }
                '}' => return Err(self.error(pos, "unexpected \"}\" in operand")),
                c => {
                    return Err(self.error(pos, format!("unrecognized character in action: {c:?}")))
                }
            }
        }
    }

    fn single(&mut self, tok: Tok) {
        let pos = self.pos;
        self.pos += 1;
        self.push(tok, pos);
    }

    /// The word starting `skip` bytes from here (the skipped prefix included).
    fn word(&mut self, skip: usize) -> String {
        let rest = &self.rest()[skip..];
        let len = rest.len() - rest.trim_start_matches(is_word).len();
        let word = self.rest()[..skip + len].to_owned();
        self.pos += skip + len;
        word
    }

    fn number(&mut self) -> Result<(), TemplateError> {
        let pos = self.pos;
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let signed = usize::from(rest.starts_with(['+', '-']));
        let hex = rest[signed..].starts_with("0x") || rest[signed..].starts_with("0X");
        let mut len = signed;
        while let Some(&b) = bytes.get(len) {
            // `1e-3`: a sign right after a decimal exponent belongs to the number.
            let exponent_sign =
                matches!(b, b'+' | b'-') && !hex && matches!(bytes[len - 1], b'e' | b'E');
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exponent_sign {
                len += 1;
            } else {
                break;
            }
        }
        let text = &rest[..len];
        let n = parse_number(text)
            .ok_or_else(|| self.error(pos, format!("bad number syntax: {text:?}")))?;
        self.pos += len;
        self.push(Tok::Number(n), pos);
        Ok(())
    }

    fn quoted(&mut self) -> Result<String, TemplateError> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.rest()[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += 1 + i + 1;
                    return Ok(out);
                }
                '\n' => break,
                '\\' => {
                    let Some((_, e)) = chars.next() else { break };
                    let unescaped = match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '\\' => '\\',
                        '"' => '"',
                        '\'' => '\'',
                        '0' => '\0',
                        'x' | 'u' => {
                            let digits = if e == 'x' { 2 } else { 4 };
                            let hex: String = (0..digits)
                                .filter_map(|_| chars.next().map(|(_, c)| c))
                                .collect();
                            u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == digits)
                                .and_then(char::from_u32)
                                .ok_or_else(|| {
                                    self.error(start, "invalid escape in quoted string")
                                })?
                        }
                        _ => return Err(self.error(start, "invalid escape in quoted string")),
                    };
                    out.push(unescaped);
                }
                c => out.push(c),
            }
        }
        Err(self.error(start, "unterminated quoted string"))
    }

    fn char_constant(&mut self) -> Result<i64, TemplateError> {
        let start = self.pos;
        let mut chars = self.rest()[1..].chars();
        let c = match chars.next() {
            Some('\\') => match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some('\\') => '\\',
                Some('\'') => '\'',
                _ => return Err(self.error(start, "invalid escape in character constant")),
            },
            Some(c) if c != '\'' => c,
            _ => return Err(self.error(start, "empty character constant")),
        };
        if chars.next() != Some('\'') {
            return Err(self.error(start, "unterminated character constant"));
        }
        let escaped = self.rest()[1..].starts_with('\\');
        self.pos += 2 + c.len_utf8() + usize::from(escaped);
        Ok(i64::from(u32::from(c)))
    }
}

/// Go's number syntax, the useful part: decimal and hex integers, decimal floats.
fn parse_number(text: &str) -> Option<serde_json::Number> {
    let clean = text.replace('_', "");
    let (negative, digits) = match clean.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let radix = [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ]
    .iter()
    .find_map(|(p, r)| digits.strip_prefix(p).map(|d| (d, *r)));
    if let Some((body, radix)) = radix {
        let n = i64::from_str_radix(body, radix).ok()?;
        return Some(if negative { -n } else { n }.into());
    }
    if let Ok(n) = clean.trim_start_matches('+').parse::<i64>() {
        return Some(n.into());
    }
    if let Ok(n) = clean.trim_start_matches('+').parse::<u64>() {
        return Some(n.into());
    }
    let f: f64 = clean.trim_start_matches('+').parse().ok()?;
    serde_json::Number::from_f64(f)
}
