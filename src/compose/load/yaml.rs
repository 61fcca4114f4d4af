//! YAML documents as trees that remember where each node came from.
//!
//! saphyr-parser gives events with spans and tags; this module builds its own tree from them so
//! that anchors, aliases and `<<` merge keys resolve the way go-yaml v3 (compose-go's reader)
//! resolves them, plain scalars get YAML 1.2 core types, and Compose's `!reset` / `!override`
//! tags survive to the merge.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// A node with the place (1-based line and column) it starts at.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) v: V,
    pub(crate) line: usize,
    pub(crate) col: usize,
    pub(crate) tag: Tag,
}

/// The Compose tags that change merging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    None,
    Reset,
    Override,
}

/// One entry of a mapping: the key (always a string, as compose-go converts them) and its place.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) line: usize,
    pub(crate) val: Node,
}

#[derive(Clone, Debug)]
pub(crate) enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A parse failure at a place in the file.
#[derive(Debug)]
pub(crate) struct YamlError {
    pub(crate) line: usize,
    pub(crate) col: usize,
    pub(crate) msg: String,
}

/// Alias expansion copies subtrees; a hostile file could make a few lines expand into
/// billions of nodes ("billion laughs"), so the whole stream is capped.
const MAX_NODES: usize = 1_000_000;

/// Nesting deeper than this is refused: the tree is built (and later walked) recursively, and
/// a hostile file could otherwise exhaust the stack with `[[[[...`.
const MAX_DEPTH: usize = 256;

struct Builder {
    anchors: HashMap<usize, Node>,
    nodes: usize,
    depth: usize,
}

/// Parses every document of `text`.
pub(crate) fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        anchors: HashMap::new(),
        nodes: 0,
        depth: 0,
    };
    let mut docs = Vec::new();
    loop {
        let (ev, _) = next(&mut parser)?;
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                let (ev, span) = next(&mut parser)?;
                if matches!(ev, Event::DocumentEnd) {
                    // An empty document is an empty mapping for Compose.
                    continue;
                }
                let node = b.node(&mut parser, ev, span)?;
                let (end, _) = next(&mut parser)?;
                if !matches!(end, Event::DocumentEnd) {
                    return Err(err_at(span, "expected the end of the document"));
                }
                docs.push(node);
            }
            _ => {}
        }
    }
    Ok(docs)
}

fn next<'a>(
    p: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
) -> Result<(Event<'a>, Span), YamlError> {
    match p.next() {
        Some(Ok(x)) => Ok(x),
        Some(Err(e)) => Err(YamlError {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            msg: e.info().to_string(),
        }),
        None => Err(YamlError {
            line: 0,
            col: 0,
            msg: "unexpected end of the stream".into(),
        }),
    }
}

fn err_at(span: Span, msg: impl Into<String>) -> YamlError {
    YamlError {
        line: span.start.line(),
        col: span.start.col() + 1,
        msg: msg.into(),
    }
}

fn tag_of(tag: Option<&saphyr_parser::Tag>) -> (Tag, Option<String>) {
    match tag {
        None => (Tag::None, None),
        Some(t) if t.handle == "!" && t.suffix == "reset" => (Tag::Reset, None),
        Some(t) if t.handle == "!" && t.suffix == "override" => (Tag::Override, None),
        Some(t) if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" => {
            (Tag::None, Some(t.suffix.clone()))
        }
        Some(_) => (Tag::None, None),
    }
}

impl Builder {
    fn count(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(err_at(
                span,
                format!("document expands to more than {MAX_NODES} nodes (aliases)"),
            ));
        }
        Ok(())
    }

    fn node<'a>(
        &mut self,
        p: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        ev: Event<'a>,
        span: Span,
    ) -> Result<Node, YamlError> {
        let line = span.start.line();
        let col = span.start.col() + 1;
        self.count(1, span)?;
        if matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..)) {
            if self.depth >= MAX_DEPTH {
                return Err(err_at(
                    span,
                    format!("nesting deeper than {MAX_DEPTH} levels"),
                ));
            }
            self.depth += 1;
        }
        let built = self.build(p, ev, span, line, col);
        if matches!(built, Ok(ref n) if matches!(n.v, V::Seq(_) | V::Map(_))) {
            self.depth = self.depth.saturating_sub(1);
        }
        built
    }

    fn build<'a>(
        &mut self,
        p: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        ev: Event<'a>,
        span: Span,
        line: usize,
        col: usize,
    ) -> Result<Node, YamlError> {
        let (node, anchor) = match ev {
            Event::Alias(id) => {
                let Some(n) = self.anchors.get(&id).cloned() else {
                    return Err(err_at(span, "unknown anchor"));
                };
                let size = weight(&n);
                self.count(size, span)?;
                return Ok(Node { line, col, ..n });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let (tag, core) = tag_of(tag.as_deref());
                let v = scalar(&text, style, core.as_deref()).map_err(|m| err_at(span, m))?;
                (Node { v, line, col, tag }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let (tag, _) = tag_of(tag.as_deref());
                let mut items = Vec::new();
                loop {
                    let (ev, sp) = next(p)?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(p, ev, sp)?);
                }
                (
                    Node {
                        v: V::Seq(items),
                        line,
                        col,
                        tag,
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, tag) => {
                let (tag, _) = tag_of(tag.as_deref());
                let v = self.mapping(p)?;
                (Node { v, line, col, tag }, anchor)
            }
            _ => return Err(err_at(span, "unexpected YAML event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping<'a>(
        &mut self,
        p: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
    ) -> Result<V, YamlError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merged: Vec<Entry> = Vec::new();
        loop {
            let (ev, kspan) = next(p)?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let key = self.node(p, ev, kspan)?;
            let (ev, vspan) = next(p)?;
            let val = self.node(p, ev, vspan)?;
            let name = match &key.v {
                V::Str(s) => s.clone(),
                V::Int(i) => i.to_string(),
                V::Float(f) => f.to_string(),
                V::Bool(b) => b.to_string(),
                V::Null => "null".into(),
                V::Seq(_) | V::Map(_) => {
                    return Err(err_at(kspan, "a mapping key must be a scalar"));
                }
            };
            if name == "<<" && matches!(key.v, V::Str(_)) {
                // Merge keys: earlier sources win over later ones, explicit keys over all.
                let sources = match val.v {
                    V::Map(m) => vec![m],
                    V::Seq(items) => {
                        let mut out = Vec::new();
                        for it in items {
                            match it.v {
                                V::Map(m) => out.push(m),
                                _ => return Err(err_at(vspan, "a merge key needs mappings")),
                            }
                        }
                        out
                    }
                    _ => return Err(err_at(vspan, "a merge key needs a mapping")),
                };
                for src in sources {
                    for e in src {
                        if !merged.iter().any(|m| m.key == e.key) {
                            merged.push(e);
                        }
                    }
                }
                continue;
            }
            if let Some(prev) = entries.iter().find(|e| e.key == name) {
                return Err(err_at(
                    kspan,
                    format!("mapping key {name:?} already defined at line {}", prev.line),
                ));
            }
            entries.push(Entry {
                key: name,
                line: key.line,
                val,
            });
        }
        for m in merged {
            if !entries.iter().any(|e| e.key == m.key) {
                entries.push(m);
            }
        }
        Ok(V::Map(entries))
    }
}

fn weight(n: &Node) -> usize {
    match &n.v {
        V::Seq(items) => 1 + items.iter().map(weight).sum::<usize>(),
        V::Map(es) => 1 + es.iter().map(|e| 1 + weight(&e.val)).sum::<usize>(),
        _ => 1,
    }
}

/// Resolves a scalar as go-yaml v3 does for an untyped target: quoted and block scalars are
/// strings, plain ones follow the YAML 1.2 core schema.
fn scalar(text: &str, style: ScalarStyle, core: Option<&str>) -> Result<V, String> {
    match core {
        Some("str") => return Ok(V::Str(text.to_string())),
        Some("int") => {
            return parse_int(text)
                .map(V::Int)
                .ok_or_else(|| format!("cannot read {text:?} as !!int"))
        }
        Some("float") => {
            return parse_float(text)
                .map(V::Float)
                .ok_or_else(|| format!("cannot read {text:?} as !!float"))
        }
        Some("bool") => {
            return parse_bool(text)
                .map(V::Bool)
                .ok_or_else(|| format!("cannot read {text:?} as !!bool"))
        }
        Some("null") => return Ok(V::Null),
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Ok(V::Str(text.to_string()));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(V::Null);
    }
    if let Some(b) = parse_bool(text) {
        return Ok(V::Bool(b));
    }
    if let Some(i) = parse_int(text) {
        return Ok(V::Int(i));
    }
    if let Some(f) = parse_float(text) {
        return Ok(V::Float(f));
    }
    Ok(V::Str(text.to_string()))
}

fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_int(t: &str) -> Option<i64> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.is_empty() {
        return None;
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let v = if let Some(h) = clean.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = clean.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = clean.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if clean.bytes().all(|c| c.is_ascii_digit()) {
        clean.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn parse_float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // Only the core schema's shape: digits, one dot, an exponent; not Rust's "inf"/"nan".
    let ok = t
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
        && t.bytes().any(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    t.replace('_', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Node {
        parse(s).expect("parses").remove(0)
    }

    #[test]
    fn core_scalars_as_go_yaml_reads_them() {
        let n = one("a: 1\nb: '1'\nc: true\nd: yes\ne: ~\nf: 1.5\ng: 0o17\nh:\n");
        let V::Map(es) = n.v else { panic!("map") };
        let kinds: Vec<String> = es.iter().map(|e| format!("{:?}", e.val.v)).collect();
        assert_eq!(
            kinds,
            [
                "Int(1)",
                "Str(\"1\")",
                "Bool(true)",
                "Str(\"yes\")",
                "Null",
                "Float(1.5)",
                "Int(15)",
                "Null"
            ]
        );
    }

    #[test]
    fn merge_keys_and_aliases() {
        let n = one("x: &b {a: 1, b: 2}\ny:\n  <<: *b\n  b: 3\n");
        let V::Map(es) = n.v else { panic!("map") };
        let V::Map(y) = &es[1].val.v else {
            panic!("map")
        };
        let got: Vec<(String, String)> = y
            .iter()
            .map(|e| (e.key.clone(), format!("{:?}", e.val.v)))
            .collect();
        assert_eq!(
            got,
            [("b".into(), "Int(3)".into()), ("a".into(), "Int(1)".into())]
        );
    }

    #[test]
    fn reset_and_override_tags_are_kept() {
        let n = one("a: !reset []\nb: !override {x: 1}\n");
        let V::Map(es) = n.v else { panic!("map") };
        assert_eq!(es[0].val.tag, Tag::Reset);
        assert_eq!(es[1].val.tag, Tag::Override);
    }

    #[test]
    fn duplicate_key_names_both_lines() {
        let e = parse("a: 1\nb: 2\na: 3\n").expect_err("duplicate");
        assert_eq!((e.line, e.col), (3, 1));
        assert!(e.msg.contains("already defined at line 1"), "{}", e.msg);
    }

    #[test]
    fn alias_bombs_stop() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(&s).expect_err("bounded");
        assert!(e.msg.contains("more than"), "{}", e.msg);
    }

    #[test]
    fn deep_nesting_stops() {
        // The parser has a limit of its own; this module's is lower.
        for n in [300, 100_000] {
            let s = format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
            let e = parse(&s).expect_err("too deep");
            assert!(
                e.msg.contains("nesting deeper") || e.msg.contains("recursion limit"),
                "{}",
                e.msg
            );
        }
        assert!(parse(&format!("a: {}{}\n", "[".repeat(100), "]".repeat(100))).is_ok());
    }

    #[test]
    fn syntax_error_has_a_place() {
        let e = parse("a:\n  b: [1, 2\n").expect_err("bad");
        assert!(e.line >= 2, "{e:?}");
    }
}
