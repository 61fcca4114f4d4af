//! The evaluator: runs a parsed template over a JSON value, with Go's semantics for
//! dot, variables, pipelines, truth and printing.

use std::borrow::Cow;

use serde_json::Value;

use super::funcs;
use super::parse::{Arg, ArgKind, Branch, Cmd, Node, Pipe};
use super::typed::{self, Types};
use super::TemplateError;

type Val<'a> = Cow<'a, Value>;

/// The largest integer `range` counts to.
const MAX_RANGE: i64 = 1_000_000;

/// How a run treats its data.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    /// Data decoded from JSON, run with Go's `missingkey=error`: a missing key is an
    /// error, a `null` one `<no value>`.
    Map,
    /// A listing row, which Docker evaluates on a struct: a field it doesn't have is an
    /// error naming this kind.
    Row(&'a str),
    /// The header of a `table`: Docker's own functions pass their first argument through
    /// and a missing field is empty.
    Header,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

pub struct Exec<'a> {
    src: &'a str,
    root: &'a Value,
    mode: Mode<'a>,
    vars: Vec<(String, Val<'a>)>,
    /// Docker's Go type of each node of `root`, where it is known.
    types: Types,
    pub out: String,
}

impl<'a> Exec<'a> {
    pub fn new(src: &'a str, root: &'a Value, mode: Mode<'a>) -> Exec<'a> {
        Exec {
            src,
            root,
            mode,
            vars: vec![("$".to_owned(), Cow::Borrowed(root))],
            types: Types::new(),
            out: String::new(),
        }
    }

    /// Knows the Go type of `root`'s nodes: they print as Go's `%v` of Docker's structs.
    pub fn typed(mut self, types: Types) -> Exec<'a> {
        self.types = types;
        self
    }

    pub fn run(&mut self, nodes: &'a [Node]) -> Result<(), TemplateError> {
        let dot = Cow::Borrowed(self.root);
        self.nodes(nodes, &dot).map(drop)
    }

    fn error(&self, arg_pos: usize, text: &str, message: impl std::fmt::Display) -> TemplateError {
        TemplateError::at(
            self.src,
            arg_pos,
            format!("executing \"\" at <{text}>: {message}"),
        )
    }

    fn nodes(&mut self, nodes: &'a [Node], dot: &Val<'a>) -> Result<Flow, TemplateError> {
        for node in nodes {
            match self.node(node, dot)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    /// Runs `nodes` in a scope of their own: variables they declare end with them.
    fn scoped(&mut self, nodes: &'a [Node], dot: &Val<'a>) -> Result<Flow, TemplateError> {
        let mark = self.vars.len();
        let flow = self.nodes(nodes, dot);
        self.vars.truncate(mark);
        flow
    }

    fn node(&mut self, node: &'a Node, dot: &Val<'a>) -> Result<Flow, TemplateError> {
        match node {
            Node::Text(text) => self.out.push_str(text),
            Node::Action(pipe) => {
                let value = self.pipe(pipe, dot)?;
                if pipe.vars.is_empty() {
                    self.print(&value);
                } else {
                    self.bind(pipe, value)?;
                }
            }
            Node::If(branch) | Node::With(branch) => {
                let mark = self.vars.len();
                let value = self.pipe(&branch.pipe, dot)?;
                if !branch.pipe.vars.is_empty() {
                    self.bind(&branch.pipe, value.clone())?;
                }
                let flow = if truth(&value) {
                    let inner = if matches!(node, Node::With(_)) {
                        &value
                    } else {
                        dot
                    };
                    self.nodes(&branch.body, inner)
                } else {
                    self.nodes(&branch.otherwise, dot)
                };
                self.vars.truncate(mark);
                return flow;
            }
            Node::Range(branch) => return self.range(branch, dot),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, branch: &'a Branch, dot: &Val<'a>) -> Result<Flow, TemplateError> {
        let value = self.pipe(&branch.pipe, dot)?;
        let items: Vec<(Value, Val<'a>)> = match value {
            Cow::Borrowed(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), Cow::Borrowed(v)))
                .collect(),
            Cow::Borrowed(Value::Object(map)) => sorted(map)
                .into_iter()
                .map(|(k, v)| (Value::from(k.as_str()), Cow::Borrowed(v)))
                .collect(),
            Cow::Owned(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), Cow::Owned(v)))
                .collect(),
            Cow::Owned(Value::Object(map)) => sorted(&map)
                .into_iter()
                .map(|(k, v)| (Value::from(k.as_str()), Cow::Owned(v.clone())))
                .collect(),
            // Go 1.22 ranges over an integer: 0..n (bounded, so a typo can't eat memory).
            ref v if v.as_i64().is_some_and(|n| n <= MAX_RANGE) => {
                (0..v.as_i64().unwrap_or(0).max(0))
                    .map(|i| (Value::from(i), Cow::Owned(Value::from(i))))
                    .collect()
            }
            Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => Vec::new(),
            other => {
                let first = &branch.pipe.cmds[0].args[0];
                return Err(self.error(
                    first.pos,
                    &first.text,
                    format!("range can't iterate over {}", show(&other)),
                ));
            }
        };
        if items.is_empty() {
            return self.scoped(&branch.otherwise, dot);
        }
        for (key, item) in items {
            let mark = self.vars.len();
            match branch.pipe.vars.as_slice() {
                [elem] => self.vars.push((elem.clone(), item.clone())),
                [index, elem] => {
                    self.vars.push((index.clone(), Cow::Owned(key)));
                    self.vars.push((elem.clone(), item.clone()));
                }
                _ => {}
            }
            let flow = self.nodes(&branch.body, &item);
            self.vars.truncate(mark);
            if let Flow::Break = flow? {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// `$x := v` declares; `$x = v` sets the nearest `$x` there is.
    fn bind(&mut self, pipe: &Pipe, value: Val<'a>) -> Result<(), TemplateError> {
        let Some(name) = pipe.vars.first() else {
            return Ok(());
        };
        if pipe.declare {
            self.vars.push((name.clone(), value));
            return Ok(());
        }
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(TemplateError::on_line(
                self.src,
                pipe.pos,
                format!("undefined variable {name:?}"),
            )),
        }
    }

    fn pipe(&mut self, pipe: &'a Pipe, dot: &Val<'a>) -> Result<Val<'a>, TemplateError> {
        let mut piped = None;
        for cmd in &pipe.cmds {
            piped = Some(self.cmd(cmd, dot, piped)?);
        }
        Ok(piped.unwrap_or(Cow::Owned(Value::Null)))
    }

    fn cmd(
        &mut self,
        cmd: &'a Cmd,
        dot: &Val<'a>,
        piped: Option<Val<'a>>,
    ) -> Result<Val<'a>, TemplateError> {
        let first = &cmd.args[0];
        let rest = &cmd.args[1..];
        let has_args = !rest.is_empty() || piped.is_some();
        let mut args = || -> Result<Vec<Val<'a>>, TemplateError> {
            let mut values = rest
                .iter()
                .map(|a| self.arg(a, dot))
                .collect::<Result<Vec<_>, _>>()?;
            values.extend(piped.clone());
            Ok(values)
        };
        match &first.kind {
            ArgKind::Func(name) => {
                let values = args()?;
                self.call(first, name, values)
            }
            ArgKind::Field(chain) | ArgKind::Var(_, chain) | ArgKind::Sub(_, chain)
                if has_args && !chain.is_empty() =>
            {
                let values = args()?;
                let (method, receiver_chain) = chain.split_last().unwrap_or((&chain[0], &[]));
                let receiver = self.chain(first, receiver_chain, dot)?;
                self.method(first, &receiver, method, values)
            }
            ArgKind::Nil => Err(self.error(first.pos, &first.text, "nil is not a command")),
            _ if has_args => Err(self.error(
                first.pos,
                &first.text,
                format!("can't give argument to non-function {}", first.text),
            )),
            _ => self.arg(first, dot),
        }
    }

    fn call(&mut self, at: &Arg, name: &str, args: Vec<Val<'a>>) -> Result<Val<'a>, TemplateError> {
        let header = matches!(self.mode, Mode::Header);
        // `index` of a node of the data is that node itself, so it keeps its Go type.
        if let ("index", [Cow::Borrowed(container), key]) = (name, args.as_slice()) {
            let child = match (*container, key.as_ref()) {
                (Value::Object(map), Value::String(k)) => map.get(k),
                (Value::Array(items), Value::Number(i)) => {
                    i.as_u64().and_then(|i| items.get(usize::try_from(i).ok()?))
                }
                _ => None,
            };
            if let Some(child) = child {
                return Ok(Cow::Borrowed(child));
            }
        }
        if let (false, "json", [arg]) = (header, name, args.as_slice()) {
            if let Some(kind) = self.types.get(&(arg.as_ref() as *const Value)) {
                // Docker's encoder over its struct: its field order and `omitempty`.
                let ordered = crate::ops::docker_types::Ordered { value: arg, kind };
                return serde_json::to_string(&ordered)
                    .map(|s| Cow::Owned(Value::String(s)))
                    .map_err(|e| self.error(at.pos, &at.text, e));
            }
        }
        funcs::call(name, &args, header)
            .map(Cow::Owned)
            .map_err(|e| self.error(at.pos, &at.text, e))
    }

    /// `.Label "key"`, the one method Docker's listing rows have (ps, volume ls,
    /// network ls): the label's value, or "" if there is none.
    fn method(
        &self,
        at: &Arg,
        receiver: &Value,
        name: &str,
        args: Vec<Val<'a>>,
    ) -> Result<Val<'a>, TemplateError> {
        if name != "Label" || !receiver.is_object() {
            return Err(self.error(
                at.pos,
                &at.text,
                format!("{name} is not a method but has arguments"),
            ));
        }
        let [key] = args.as_slice() else {
            return Err(self.error(
                at.pos,
                &at.text,
                format!("wrong number of args for Label: want 1 got {}", args.len()),
            ));
        };
        let Some(key) = key.as_str() else {
            return Err(self.error(at.pos, &at.text, "wrong type for value; expected string"));
        };
        if let Mode::Header = self.mode {
            // Docker heads the column with the key's last dotted part, `-` and `_` as
            // spaces: `com.example.team-name` heads `team name`.
            let last = key.rsplit('.').next().unwrap_or(key);
            return Ok(Cow::Owned(Value::from(last.replace(['-', '_'], " "))));
        }
        let value = match receiver.get("Labels") {
            Some(Value::Object(map)) => map.get(key).cloned(),
            // Rows carry their labels as Docker prints them: "k=v,k2=v2".
            Some(Value::String(list)) => list
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == key)
                .map(|(_, v)| Value::from(v)),
            _ => None,
        };
        Ok(Cow::Owned(value.unwrap_or_else(|| Value::from(""))))
    }

    fn arg(&mut self, arg: &'a Arg, dot: &Val<'a>) -> Result<Val<'a>, TemplateError> {
        match &arg.kind {
            ArgKind::Dot => Ok(dot.clone()),
            ArgKind::Nil => Ok(Cow::Owned(Value::Null)),
            ArgKind::Const(v) => Ok(Cow::Borrowed(v)),
            ArgKind::Func(name) => self.call(arg, name, Vec::new()),
            ArgKind::Field(chain) | ArgKind::Var(_, chain) | ArgKind::Sub(_, chain) => {
                self.chain(arg, chain, dot)
            }
        }
    }

    /// The base of an operand (dot, a variable, a parenthesized pipeline) and then its
    /// fields.
    fn chain(
        &mut self,
        arg: &'a Arg,
        fields: &[String],
        dot: &Val<'a>,
    ) -> Result<Val<'a>, TemplateError> {
        let mut value = match &arg.kind {
            ArgKind::Var(name, _) => match self.vars.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => v.clone(),
                None => {
                    return Err(TemplateError::on_line(
                        self.src,
                        arg.pos,
                        format!("undefined variable {name:?}"),
                    ))
                }
            },
            ArgKind::Sub(pipe, _) => self.pipe(pipe, dot)?,
            _ => dot.clone(),
        };
        for name in fields {
            value = self.field(arg, value, name)?;
        }
        Ok(value)
    }

    fn field(&self, at: &Arg, value: Val<'a>, name: &str) -> Result<Val<'a>, TemplateError> {
        let is_root = std::ptr::eq(value.as_ref(), self.root);
        let found = match &value {
            Cow::Borrowed(Value::Object(map)) => map.get(name).map(Cow::Borrowed),
            Cow::Owned(Value::Object(map)) => map.get(name).cloned().map(Cow::Owned),
            Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => {
                return Err(self.error(
                    at.pos,
                    &at.text,
                    format!("nil pointer evaluating interface {{}}.{name}"),
                ))
            }
            other => {
                return Err(self.error(
                    at.pos,
                    &at.text,
                    format!("can't evaluate field {name} in type {}", go_type(other)),
                ))
            }
        };
        match (found, self.mode) {
            (Some(v), _) => Ok(v),
            (None, Mode::Row(kind)) if is_root => Err(self.error(
                at.pos,
                &at.text,
                format!("can't evaluate field {name} in type {kind}"),
            )),
            (None, Mode::Header) => Ok(Cow::Owned(Value::from(""))),
            (None, Mode::Map) => Err(self.error(
                at.pos,
                &at.text,
                format!("map has no entry for key {name:?}"),
            )),
            (None, Mode::Row(_)) => Ok(Cow::Owned(Value::Null)),
        }
    }

    fn print(&mut self, value: &Value) {
        match self.types.get(&(value as *const Value)) {
            Some(kind) => typed::print(value, kind, &mut self.out),
            None => print_value(value, &mut self.out),
        }
    }
}

fn sorted(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// Go's truth: false, 0, "", nil and empty collections are false.
pub fn truth(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The Go type a JSON value decodes to, as Go's messages name it.
pub fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// A value as Go's `{{.}}` prints it: `[a b]` for lists, `map[k:v]` for objects.
pub fn print_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("<no value>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            for (i, (k, v)) in sorted(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                print_value(v, out);
            }
            out.push(']');
        }
    }
}

/// `show` for messages: a value printed as Go would.
pub fn show(value: &Value) -> String {
    let mut out = String::new();
    print_value(value, &mut out);
    out
}

/// Numbers as Go's `%v`: integers as they are; floats shortest, with an exponent
/// (`1e+21`, `1e-05`) past Go's thresholds.
pub fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-4..1e21).contains(&magnitude) {
        let text = format!("{f:e}");
        if let Some((mantissa, exp)) = text.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{mantissa}e{sign}{digits:0>2}");
        }
        return text;
    }
    f.to_string()
}
