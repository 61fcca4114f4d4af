//! Go's text/template, the part Docker's `--format` uses, evaluated over JSON values:
//! fields (`{{.Names}}`, `{{.State.Running}}`), variables, pipelines, `if`/`else`,
//! `range`, `with`, Go's builtin functions and Docker's (`json`, `join`, `split`, `lower`,
//! `upper`, `title`, `pad`, `truncate`).
//!
//! Written here rather than taken from a crate: gtmpl, the one Go-template crate, has had
//! no release since 2021 and works on a value type of its own.

mod exec;
mod funcs;
mod lex;
mod parse;

use serde_json::Value;

use exec::{Exec, Mode};
use parse::Node;

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    nodes: Vec<Node>,
}

/// A template that does not parse or fails on its data, in Go's words:
/// `template: :1:8: unexpected "}" in operand`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(String);

impl TemplateError {
    /// An error at byte `pos` of `src`, with its line and column (both from 1).
    fn at(src: &str, pos: usize, message: impl std::fmt::Display) -> TemplateError {
        let before = &src[..pos.min(src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        TemplateError(format!("template: :{line}:{column}: {message}"))
    }
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let tokens = lex::lex(source)?;
        let nodes = parse::parse(source, tokens)?;
        Ok(Template {
            source: source.to_owned(),
            nodes,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Runs over decoded JSON (`inspect`): a missing key prints `<no value>`.
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        self.run(data, Mode::Map)
    }

    /// Runs over a listing row, whose fields are fixed: one it doesn't have is an error
    /// naming `kind`, as Docker's are for its row types.
    pub fn render_row(&self, data: &Value, kind: &str) -> Result<String, TemplateError> {
        self.run(data, Mode::Row(kind))
    }

    /// The header of a `table`: run over field name -> column title, with Docker's
    /// functions passing the title through (`{{json .Names}}` heads `NAMES`).
    pub fn render_header(&self, titles: &Value) -> Result<String, TemplateError> {
        self.run(titles, Mode::Header)
    }

    fn run(&self, data: &Value, mode: Mode) -> Result<String, TemplateError> {
        let mut exec = Exec::new(&self.source, data, mode);
        exec.run(&self.nodes)?;
        Ok(exec.out)
    }
}

#[cfg(test)]
mod tests;
