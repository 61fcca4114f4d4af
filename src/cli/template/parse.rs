//! The parser: tokens become a tree of text, actions and control structures.

use serde_json::Value;

use super::lex::{Tok, Token};
use super::{funcs, TemplateError};

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    /// `{{pipeline}}`: printed unless it declares or assigns a variable.
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    Break,
    Continue,
}

/// `{{if|with|range pipe}} body {{else}} otherwise {{end}}`.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pipe: Pipe,
    pub body: Vec<Node>,
    pub otherwise: Vec<Node>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    /// `$x :=` (declare) or `$x =` (assign); `range $i, $e :=` has two.
    pub vars: Vec<String>,
    pub declare: bool,
    pub cmds: Vec<Cmd>,
}

#[derive(Debug, Clone)]
pub struct Cmd {
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub pos: usize,
    /// The argument as written, for error messages (`at <.Foo>`).
    pub text: String,
    pub kind: ArgKind,
}

#[derive(Debug, Clone)]
pub enum ArgKind {
    Dot,
    Nil,
    Const(Value),
    /// `.A.B`: fields of dot.
    Field(Vec<String>),
    /// `$x.A.B`.
    Var(String, Vec<String>),
    Func(String),
    /// `(pipe).A.B`.
    Sub(Box<Pipe>, Vec<String>),
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 100;

pub fn parse(src: &str, tokens: Vec<Token>) -> Result<Vec<Node>, TemplateError> {
    let mut parser = Parser {
        src,
        tokens,
        next: 0,
        depth: 0,
        range_depth: 0,
    };
    let (nodes, end) = parser.list()?;
    match end {
        Stop::Eof => Ok(nodes),
        Stop::End(pos) => Err(parser.error(pos, "unexpected {{end}}")),
        Stop::Else(pos, _) => Err(parser.error(pos, "unexpected {{else}}")),
    }
}

/// What ended a list of nodes.
enum Stop {
    Eof,
    End(usize),
    /// `{{else}}`, or `{{else if ...}}` / `{{else with ...}}` with the keyword.
    Else(usize, Option<String>),
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    range_depth: usize,
}

impl Parser<'_> {
    fn error(&self, pos: usize, message: impl Into<String>) -> TemplateError {
        TemplateError::on_line(self.src, pos, message.into())
    }

    fn peek(&self) -> &Token {
        // The lexer always ends with Eof, which is never consumed.
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::Eof {
            self.next += 1;
        }
        token
    }

    fn skip_space(&mut self) {
        while self.peek().tok == Tok::Space {
            self.next += 1;
        }
    }

    /// The next token after blanks.
    fn bump_nonspace(&mut self) -> Token {
        self.skip_space();
        self.bump()
    }

    fn expect_right(&mut self, context: &str) -> Result<(), TemplateError> {
        let token = self.bump_nonspace();
        match token.tok {
            Tok::Right => Ok(()),
            other => Err(self.error(
                token.pos,
                format!("unexpected {} in {context}", describe(&other)),
            )),
        }
    }

    fn list(&mut self) -> Result<(Vec<Node>, Stop), TemplateError> {
        let mut nodes = Vec::new();
        loop {
            let token = self.bump();
            match token.tok {
                Tok::Eof => return Ok((nodes, Stop::Eof)),
                Tok::Text(text) => nodes.push(Node::Text(text)),
                Tok::Left => {
                    if let Some(end) = self.action(&mut nodes)? {
                        return Ok((nodes, end));
                    }
                }
                other => {
                    return Err(self.error(token.pos, format!("unexpected {}", describe(&other))))
                }
            }
        }
    }

    /// One `{{...}}` after its left delimiter: appended to `nodes`, or the end of a list.
    fn action(&mut self, nodes: &mut Vec<Node>) -> Result<Option<Stop>, TemplateError> {
        self.skip_space();
        let token = self.peek().clone();
        let keyword = match &token.tok {
            Tok::Ident(word) => word.clone(),
            _ => String::new(),
        };
        match keyword.as_str() {
            "end" => {
                self.bump();
                self.expect_right("end")?;
                Ok(Some(Stop::End(token.pos)))
            }
            "else" => {
                self.bump();
                self.skip_space();
                let chained = match &self.peek().tok {
                    Tok::Ident(k) if k == "if" || k == "with" => Some(k.clone()),
                    _ => None,
                };
                if chained.is_none() {
                    self.expect_right("else")?;
                }
                Ok(Some(Stop::Else(token.pos, chained)))
            }
            "if" | "with" | "range" => {
                self.bump();
                nodes.push(self.control(&keyword, token.pos)?);
                Ok(None)
            }
            "break" | "continue" => {
                self.bump();
                if self.range_depth == 0 {
                    return Err(self.error(
                        token.pos,
                        format!("{{{{{keyword}}}}} outside {{{{range}}}}"),
                    ));
                }
                self.expect_right(&keyword)?;
                nodes.push(if keyword == "break" {
                    Node::Break
                } else {
                    Node::Continue
                });
                Ok(None)
            }
            "define" | "template" | "block" => Err(self.error(
                token.pos,
                format!("{{{{{keyword}}}}} is not supported in --format"),
            )),
            _ => {
                let pipe = self.pipeline("command", true)?;
                nodes.push(Node::Action(pipe));
                Ok(None)
            }
        }
    }

    /// `if`, `with` or `range` after the keyword, through its `{{end}}`.
    fn control(&mut self, keyword: &str, pos: usize) -> Result<Node, TemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(pos, "template nested too deeply"));
        }
        let pipe = self.pipeline(keyword, true)?;
        if keyword == "range" {
            self.range_depth += 1;
        }
        let (body, end) = self.list()?;
        if keyword == "range" {
            self.range_depth -= 1;
        }
        let otherwise = match end {
            Stop::Eof => return Err(self.error(self.src.len(), "unexpected EOF")),
            Stop::End(_) => Vec::new(),
            Stop::Else(_, None) => {
                let (otherwise, end) = self.list()?;
                match end {
                    Stop::End(_) => otherwise,
                    Stop::Else(p, _) => return Err(self.error(p, "expected end; found {{else}}")),
                    Stop::Eof => return Err(self.error(self.src.len(), "unexpected EOF")),
                }
            }
            // `{{else if x}}`: a nested if that shares this one's `{{end}}`.
            Stop::Else(p, Some(chained)) => {
                if keyword == "range" {
                    return Err(self.error(p, "{{else if}} or {{else with}} after {{range}}"));
                }
                self.bump_nonspace();
                vec![self.control(&chained, p)?]
            }
        };
        self.depth -= 1;
        let branch = Branch {
            pipe,
            body,
            otherwise,
        };
        Ok(match keyword {
            "if" => Node::If(branch),
            "with" => Node::With(branch),
            _ => Node::Range(branch),
        })
    }

    /// A pipeline up to `}}` (or `)` inside parentheses), with its variable declaration.
    fn pipeline(&mut self, context: &str, top: bool) -> Result<Pipe, TemplateError> {
        self.skip_space();
        let pos = self.peek().pos;
        let (vars, declare) = self.declaration(context);
        let mut cmds = Vec::new();
        loop {
            self.skip_space();
            let token = self.peek().clone();
            match token.tok {
                Tok::Right if top => {
                    self.bump();
                    break;
                }
                Tok::Close if !top => {
                    self.bump();
                    break;
                }
                Tok::Right | Tok::Close | Tok::Pipe | Tok::Eof => {
                    return Err(self.error(token.pos, format!("missing value for {context}")))
                }
                _ => {}
            }
            cmds.push(self.command(context)?);
            self.skip_space();
            let token = self.peek().clone();
            match token.tok {
                Tok::Pipe => {
                    self.bump();
                }
                Tok::Right if top => {}
                Tok::Close if !top => {}
                Tok::Eof if top => return Err(self.error(pos, "unclosed action")),
                other => {
                    return Err(self.error(
                        token.pos,
                        format!("unexpected {} in {context}", describe(&other)),
                    ))
                }
            }
        }
        if cmds.is_empty() {
            return Err(self.error(pos, format!("missing value for {context}")));
        }
        if vars.len() == 2 && context != "range" {
            return Err(self.error(pos, "too many declarations in command"));
        }
        Ok(Pipe {
            pos,
            vars,
            declare,
            cmds,
        })
    }

    /// `$x :=`, `$x =` or `$i, $e :=`: consumed if present.
    fn declaration(&mut self, context: &str) -> (Vec<String>, bool) {
        let start = self.next;
        let mut vars = Vec::new();
        loop {
            self.skip_space();
            let Tok::Var(name) = self.peek().tok.clone() else {
                break;
            };
            self.bump();
            vars.push(name);
            self.skip_space();
            match self.bump().tok {
                Tok::Declare => return (vars, true),
                Tok::Assign => return (vars, false),
                Tok::Comma if context == "range" && vars.len() == 1 => continue,
                _ => break,
            }
        }
        self.next = start;
        (Vec::new(), false)
    }

    /// Operands up to `|`, `}}` or `)`.
    fn command(&mut self, context: &str) -> Result<Cmd, TemplateError> {
        let mut args = Vec::new();
        loop {
            self.skip_space();
            match self.peek().tok {
                Tok::Right | Tok::Close | Tok::Pipe | Tok::Eof => break,
                _ => {}
            }
            if !args.is_empty() && self.tokens[self.next - 1].tok != Tok::Space {
                let token = self.peek().clone();
                return Err(self.error(
                    token.pos,
                    format!("unexpected {} in operand", describe(&token.tok)),
                ));
            }
            args.push(self.operand(context)?);
        }
        Ok(Cmd { args })
    }

    fn operand(&mut self, context: &str) -> Result<Arg, TemplateError> {
        let token = self.bump();
        let pos = token.pos;
        let mut kind = match token.tok {
            Tok::Dot => ArgKind::Dot,
            Tok::Nil => ArgKind::Nil,
            Tok::Bool(b) => ArgKind::Const(Value::Bool(b)),
            Tok::Number(n) => ArgKind::Const(Value::Number(n)),
            Tok::Str(s) => ArgKind::Const(Value::String(s)),
            Tok::Field(name) => ArgKind::Field(vec![name]),
            Tok::Var(name) => ArgKind::Var(name, Vec::new()),
            Tok::Ident(name) => {
                if !funcs::exists(&name) {
                    return Err(self.error(pos, format!("function {name:?} not defined")));
                }
                ArgKind::Func(name)
            }
            Tok::Open => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error(pos, "template nested too deeply"));
                }
                let pipe = self.pipeline("parenthesized pipeline", false)?;
                self.depth -= 1;
                ArgKind::Sub(Box::new(pipe), Vec::new())
            }
            other => {
                return Err(self.error(pos, format!("unexpected {} in {context}", describe(&other))))
            }
        };
        // Fields written right after an operand continue its chain: `$x.A`, `(f).A`. As
        // Go's, a chained operand is placed at its last field (`.State.Runing` at `.Runing`).
        let mut at = pos;
        while let Tok::Field(name) = self.peek().tok.clone() {
            at = self.bump().pos;
            match &mut kind {
                ArgKind::Field(chain) | ArgKind::Var(_, chain) | ArgKind::Sub(_, chain) => {
                    chain.push(name)
                }
                _ => return Err(self.error(pos, format!("unexpected .{name} after operand"))),
            }
        }
        let end = self.peek().pos;
        Ok(Arg {
            pos: at,
            text: self.src[pos..end.max(pos)].trim_end().to_owned(),
            kind,
        })
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Text(_) => "text".into(),
        Tok::Left => "\"{{\"".into(),
        Tok::Right => "\"}}\"".into(),
        Tok::Space => "space".into(),
        Tok::Dot => "<.>".into(),
        Tok::Field(f) => format!("<.{f}>"),
        Tok::Var(v) => format!("<{v}>"),
        Tok::Ident(i) => format!("<{i}>"),
        Tok::Str(s) => format!("{s:?}"),
        Tok::Number(n) => format!("<{n}>"),
        Tok::Bool(b) => format!("<{b}>"),
        Tok::Nil => "<nil>".into(),
        Tok::Pipe => "\"|\"".into(),
        Tok::Open => "\"(\"".into(),
        Tok::Close => "\")\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Eof => "EOF".into(),
    }
}
