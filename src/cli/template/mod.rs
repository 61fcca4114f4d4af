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
mod typed;

use serde_json::Value;

use exec::{Exec, Mode};
use parse::Node;

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    nodes: Vec<Node>,
}

/// A template that does not parse or fails on its data, in Go's words: a parse error
/// names the line (`template: :1: unclosed action`), an execution error the line and
/// the byte column from 0 (`template: :1:8: executing "" at <.State.Runing>: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(String);

impl TemplateError {
    /// An execution error at byte `pos` of `src`: its line (from 1) and its byte column
    /// within that line (from 0), as Go's `ErrorContext`.
    fn at(src: &str, pos: usize, message: impl std::fmt::Display) -> TemplateError {
        let before = &src[..pos.min(src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
        TemplateError(format!("template: :{line}:{column}: {message}"))
    }

    /// A parse error at byte `pos` of `src`: Go names only its line.
    fn on_line(src: &str, pos: usize, message: impl std::fmt::Display) -> TemplateError {
        let line = src[..pos.min(src.len())].matches('\n').count() + 1;
        TemplateError(format!("template: :{line}: {message}"))
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

    /// Runs over decoded JSON (`inspect`), as Docker's raw fallback does with Go's
    /// `missingkey=error`: a key the object doesn't have is an error; one it has with
    /// `null` prints `<no value>`.
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        self.run(data, Mode::Map)
    }

    /// Runs over an inspect object of Docker's type `ty`, as Docker runs it over its
    /// struct: every field exists (zero if absent) and a value prints as Go's `%v` of
    /// its type (`{{.Mounts}}` is `[{volume ...}]`, not a map).
    pub fn render_typed(
        &self,
        data: &Value,
        ty: &'static crate::ops::docker_types::Struct,
    ) -> Result<String, TemplateError> {
        use crate::ops::docker_types::{fill, struct_kind};
        let mut view = data.clone();
        fill(&mut view, ty, true);
        let types = typed::index(&view, struct_kind(ty));
        let mut exec = Exec::new(&self.source, &view, Mode::Map).typed(types);
        exec.run(&self.nodes)?;
        Ok(exec.out)
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
