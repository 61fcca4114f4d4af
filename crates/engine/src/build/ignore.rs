//! `.dockerignore`: Docker's pattern semantics (moby's patternmatcher and its ignore-file
//! reader), not gitignore's.
//!
//! The file: a UTF-8 BOM is dropped, a line starting with `#` is a comment (only at column
//! 0: `  # x` is a pattern), blank lines are skipped, each pattern is trimmed and cleaned
//! lexically (`a//b/../c/` is `a/c`), a leading `/` is dropped, `!` makes an exception.
//! Matching: the last pattern that matches a path decides; a pattern that matches a
//! directory also matches everything below it, unless a later exception re-includes it.
//! `*` and `?` never cross a `/`, `**` crosses any number of them, `[...]` is a class.
//! Like patternmatcher, a pattern is an exact string, a prefix (`dir/**`), a suffix (`**/x`),
//! or else a regular expression built the same way (the `regex` crate is RE2's dialect, as
//! Go's `regexp` is).
//!
//! The matching follows BuildKit's context walk (`MatchesUsingParentResults`): each path is
//! checked with its parent directory's per-pattern results, so [`IgnorePatterns::is_excluded`]
//! walks the path's prefixes and the context walker carries a [`MatchState`] per directory.

use regex::Regex;

use crate::error::{Error, ErrorKind, Result};

/// The patterns of one `.dockerignore`, in order.
#[derive(Debug, Clone, Default)]
pub struct IgnorePatterns {
    patterns: Vec<Pattern>,
    exceptions: bool,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// After cleaning, without the `!`.
    text: String,
    exception: bool,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact,
    /// `dir/**`: the pattern without its last two characters is a prefix.
    Prefix,
    /// `**/x` or `**x`: the pattern without its first two characters is a suffix.
    Suffix,
    Regex(Regex),
}

/// Per-pattern results for a directory, handed to its children (patternmatcher's
/// `MatchInfo`). Empty for the context root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchState(Vec<bool>);

impl IgnorePatterns {
    /// Reads a `.dockerignore` file's text (as docker's `ignorefile.ReadAll`, then
    /// patternmatcher's `New`). An invalid pattern is an error naming it.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with('#') {
                continue;
            }
            let mut pattern = line.trim();
            if pattern.is_empty() {
                continue;
            }
            let exception = pattern.starts_with('!');
            if exception {
                pattern = pattern[1..].trim();
            }
            let mut cleaned = String::new();
            if !pattern.is_empty() {
                cleaned = clean(pattern);
                if cleaned.len() > 1 && cleaned.starts_with('/') {
                    cleaned.remove(0);
                }
            }
            lines.push(if exception {
                format!("!{cleaned}")
            } else {
                cleaned
            });
        }
        Self::from_patterns(lines.iter().map(String::as_str))
    }

    /// Patterns already split into lines (patternmatcher's `New`): each is trimmed and
    /// cleaned, `!` marks an exception.
    pub fn from_patterns<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut out = IgnorePatterns::default();
        for raw in patterns {
            let p = raw.trim();
            if p.is_empty() {
                continue;
            }
            let mut p = clean(p);
            let exception = p.starts_with('!');
            if exception {
                if p.len() == 1 {
                    return Err(bad_pattern(raw, "illegal exclusion pattern: \"!\""));
                }
                p.remove(0);
                out.exceptions = true;
            }
            validate_glob(&p).map_err(|reason| bad_pattern(raw, reason))?;
            let matcher = compile(&p).map_err(|reason| bad_pattern(raw, &reason))?;
            out.patterns.push(Pattern {
                text: p,
                exception,
                matcher,
            });
        }
        Ok(out)
    }

    /// No pattern at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Some pattern is an exception (`!x`): an excluded directory may still hold
    /// re-included entries, so the walk must look inside it.
    pub fn has_exceptions(&self) -> bool {
        self.exceptions
    }

    /// Whether `rel_path` (slash-separated, relative to the context root) is left out of
    /// the context. The root itself (`""` or `.`) never is.
    pub fn is_excluded(&self, rel_path: &str) -> bool {
        self.state_of(rel_path).0
    }

    /// [`Self::is_excluded`] and the state the walk hands to `rel_path`'s children: each
    /// prefix of the path is checked in turn, as the walk reaches it.
    pub fn state_of(&self, rel_path: &str) -> (bool, MatchState) {
        let rel_path = rel_path.trim_matches('/');
        if rel_path.is_empty() || rel_path == "." || self.patterns.is_empty() {
            return (false, MatchState::default());
        }
        let mut state = MatchState::default();
        let mut end = 0;
        loop {
            let next = rel_path[end..].find('/').map(|i| end + i);
            let prefix = &rel_path[..next.unwrap_or(rel_path.len())];
            let (excluded, s) = self.check(prefix, &state);
            state = s;
            match next {
                Some(i) => end = i + 1,
                None => return (excluded, state),
            }
        }
    }

    /// One step of the walk: whether `rel_path` is excluded given its parent directory's
    /// state, and the state to hand to its own children (patternmatcher's
    /// `MatchesUsingParentResults` with the parent's results).
    pub fn check(&self, rel_path: &str, parent: &MatchState) -> (bool, MatchState) {
        let mut matched = false;
        let mut state = vec![false; self.patterns.len()];
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = parent.0.get(i).copied().unwrap_or(false);
            if !hit {
                // Only a pattern that could change the answer is evaluated.
                if pattern.exception != matched {
                    continue;
                }
                hit = pattern.matches(rel_path);
            }
            state[i] = hit;
            if hit {
                matched = !pattern.exception;
            }
        }
        (matched, MatchState(state))
    }

    /// Whether an excluded directory `dir` must still be walked because an exception
    /// could re-include something below it (BuildKit's walk skips it otherwise).
    pub fn may_reinclude_under(&self, dir: &str) -> bool {
        if !self.exceptions {
            return false;
        }
        let dir_slash = format!("{}/", dir.trim_matches('/'));
        self.patterns.iter().filter(|p| p.exception).any(|p| {
            let t = p
                .text
                .strip_suffix("/**")
                .or_else(|| p.text.strip_suffix("/*"))
                .unwrap_or(&p.text);
            // A wildcard before the end could match anything: look inside.
            t.contains(['*', '[', ']', '?', '^', '\\']) || format!("{t}/").starts_with(&dir_slash)
        })
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.text,
            Matcher::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Matcher::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix)
                    || suffix
                        .strip_prefix('/')
                        .is_some_and(|rest| !rest.is_empty() && path == rest)
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

fn bad_pattern(raw: &str, reason: &str) -> Error {
    Error::Build {
        kind: ErrorKind::InvalidArgument,
        message: format!("invalid pattern {:?}: {reason}", raw.trim()),
    }
}

/// Go's `filepath.Clean` on a slash-separated path: one slash between components, no `.`
/// components, `..` resolved lexically (kept at the start of a relative path), no trailing
/// slash; `""` becomes `.`.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// The syntax check patternmatcher makes with `filepath.Match(pattern, ".")`: classes must
/// be closed and well formed, a trailing `\` escapes nothing.
fn validate_glob(p: &str) -> std::result::Result<(), &'static str> {
    const BAD: &str = "syntax error in pattern";
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next().ok_or(BAD)?;
            }
            '[' => {
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                let mut first = true;
                loop {
                    match chars.peek() {
                        None => return Err(BAD),
                        Some(']') if !first => {
                            chars.next();
                            break;
                        }
                        _ => {}
                    }
                    first = false;
                    class_char(&mut chars)?;
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        class_char(&mut chars)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn class_char(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> std::result::Result<char, &'static str> {
    const BAD: &str = "syntax error in pattern";
    match chars.next() {
        None | Some('-') | Some(']') => Err(BAD),
        Some('\\') => chars.next().ok_or(BAD),
        Some(c) => Ok(c),
    }
}

/// patternmatcher's `compile`: which of the four kinds the pattern is, and its regular
/// expression when it needs one.
fn compile(p: &str) -> std::result::Result<Matcher, String> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut re = String::from("^");
    let mut kind = Kind::Exact;
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut step = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is `**`.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = Kind::Regex;
                }
                if step == 0 {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = Kind::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                kind = Kind::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(c);
            }
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    i += 1;
                    re.push('\\');
                    re.push(next);
                    kind = Kind::Regex;
                } else {
                    re.push_str("\\\\");
                }
            }
            '[' | ']' => {
                re.push(c);
                kind = Kind::Regex;
            }
            c => re.push(c),
        }
        step += 1;
    }
    Ok(match kind {
        Kind::Exact => Matcher::Exact,
        Kind::Prefix => Matcher::Prefix,
        Kind::Suffix => Matcher::Suffix,
        Kind::Regex => {
            re.push('$');
            Matcher::Regex(Regex::new(&re).map_err(|e| {
                // The regex crate's message spans several lines; its last says why.
                let text = e.to_string();
                let why = text
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("syntax error in pattern")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_owned();
                why
            })?)
        }
    })
}

/// One path component matched as Go's `filepath.Match` does (COPY's wildcards): `*` and `?`
/// stay within the component, `[...]` is a class, `\` escapes.
#[derive(Debug, Clone)]
pub struct Glob(Regex);

impl Glob {
    /// Compiles one component's pattern; a malformed class is an error.
    pub fn new(pattern: &str) -> Result<Glob> {
        validate_glob(pattern).map_err(|reason| bad_pattern(pattern, reason))?;
        let mut re = String::from("^");
        let mut chars = pattern.chars();
        let mut in_class = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        re.push_str(&regex::escape(&n.to_string()));
                    }
                }
                _ if in_class => {
                    if c == ']' {
                        in_class = false;
                        re.push(']');
                    } else if c == '-' || c == '^' {
                        re.push(c);
                    } else {
                        re.push_str(&regex::escape(&c.to_string()));
                    }
                }
                '[' => {
                    in_class = true;
                    re.push('[');
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        Regex::new(&re)
            .map(Glob)
            .map_err(|_| bad_pattern(pattern, "syntax error in pattern"))
    }

    /// Whether `name` (one component) matches.
    pub fn is_match(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

/// Whether a COPY source has wildcards (BuildKit's `containsWildcards`: `*`, `?`, `[`, not
/// after a `\`).
pub fn has_wildcards(source: &str) -> bool {
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' | '[' => return true,
            '\\' => {
                chars.next();
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &[&str], path: &str) -> bool {
        IgnorePatterns::from_patterns(patterns.iter().copied())
            .unwrap()
            .is_excluded(path)
    }

    /// patternmatcher's `TestMatches` table (pattern, path, matches), ported as data. Paths
    /// with a trailing slash are checked without it: the walk never produces one.
    #[test]
    fn patternmatcher_single_pattern_table() {
        let table: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**/", "file", true),
            ("**/", "file/", true),
            ("**", "dir/file", true),
            ("**/", "dir/file", true),
            ("**", "dir/file/", true),
            ("**/", "dir/file/", true),
            ("**/**", "dir/file", true),
            ("**/**", "dir/file/", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/file/", true),
            ("dir/**", "dir/dir2/file", true),
            ("dir/**", "dir/dir2/file/", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir/dir2/file/", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file/", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/file", true),
            ("**file", "dir/dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/file*.txt*", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def", true),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            (
                "dist/*.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            ("a\\*b", "a*b", true),
        ];
        for &(pattern, path, want) in table {
            assert_eq!(
                excluded(&[pattern], path),
                want,
                "pattern {pattern:?} path {path:?}"
            );
        }
    }

    #[test]
    fn patternmatcher_multi_pattern_table() {
        let table: &[(&[&str], &str, bool)] = &[
            (&["**", "!util/docker/web"], "util/docker/web/foo", false),
            (
                &["**", "!util/docker/web", "util/docker/web/foo"],
                "util/docker/web/foo",
                true,
            ),
            (
                &[
                    "**",
                    "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                ],
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                false,
            ),
            (
                &["**", "!dist/*.whl"],
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                false,
            ),
            // patternmatcher's single tests.
            (&["*"], "fileutils.go", true),
            (&["*.go"], "fileutils.go", true),
            (&["!fileutils.go", "*.go"], "fileutils.go", true),
            (&["docs", "!docs/README.md"], "docs/README.md", false),
            (&["docs/", "!docs/README.md"], "docs/README.md", false),
            (&["docs/*", "!docs/README.md"], "docs/README.md", false),
            (&["*.go", "!fileutils.go"], "fileutils.go", false),
            (&["*.go"], ".", false),
            (&[], "/any/path/there", false),
        ];
        for &(patterns, path, want) in table {
            assert_eq!(
                excluded(patterns, path),
                want,
                "patterns {patterns:?} path {path:?}"
            );
        }
    }

    /// Go's `filepath.Match` cases patternmatcher runs through `Matches`; the bad ones
    /// must be refused when the patterns are read.
    #[test]
    fn filepath_match_table_and_bad_patterns() {
        let good: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            // A directory pattern matches what is below it.
            ("a*", "ab/c", true),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("a[^a][^a][^a]b", "a☺b", false),
            ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[\\-x]", "x", true),
            ("[\\-x]", "-", true),
            ("[\\-x]", "a", false),
            ("*x", "xxx", true),
        ];
        for &(pattern, path, want) in good {
            assert_eq!(
                excluded(&[pattern], path),
                want,
                "pattern {pattern:?} path {path:?}"
            );
        }
        for bad in [
            "[]a]",
            "[-]",
            "[x-]",
            "[-x]",
            "\\",
            "[a-b-c]",
            "[",
            "[^",
            "[^bc",
            "a[",
            "!",
            // Valid for filepath.Match, refused by the regular expression (patternmatcher
            // fails when matching; here when reading).
            "[Local-Only]/",
        ] {
            let err = IgnorePatterns::from_patterns([bad]).unwrap_err();
            assert!(err.to_string().contains("invalid pattern"), "{bad}: {err}");
        }
    }

    /// docker's `ignorefile.ReadAll`: BOM, comments only at column 0, blank lines,
    /// trimming, cleaning, leading `/` and `./`, `!` with spaces.
    #[test]
    fn reads_the_file_as_docker_does() {
        let p = IgnorePatterns::parse(
            "\u{feff}# comment\n\n  /secret/  \r\n./build//out/\n  # not a comment\n! /keep \nnode_modules\n!node_modules/x\n",
        )
        .unwrap();
        let texts: Vec<(&str, bool)> = p
            .patterns
            .iter()
            .map(|p| (p.text.as_str(), p.exception))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("secret", false),
                ("build/out", false),
                ("# not a comment", false),
                ("keep", true),
                ("node_modules", false),
                ("node_modules/x", true),
            ]
        );
        assert!(p.is_excluded("secret/key"));
        assert!(p.is_excluded("build/out/bin"));
        assert!(!p.is_excluded("build/other"));
        assert!(p.is_excluded("node_modules/y"));
        assert!(!p.is_excluded("node_modules/x"));
        assert!(!p.is_excluded("node_modules/x/deep"));
        assert!(!p.is_excluded(""));
        assert!(!p.is_excluded("."));
        assert!(p.has_exceptions());
        assert!(p.may_reinclude_under("node_modules"));
        assert!(!p.may_reinclude_under("secret"));
    }

    #[test]
    fn the_walk_state_gives_the_same_answers_as_full_paths() {
        let p = IgnorePatterns::parse("a\n!a/b/c\n*/x\n").unwrap();
        let (ea, sa) = p.check("a", &MatchState::default());
        let (eb, sb) = p.check("a/b", &sa);
        let (ec, _) = p.check("a/b/c", &sb);
        assert!(ea && eb && !ec);
        assert_eq!(ec, p.is_excluded("a/b/c"));
        assert!(p.is_excluded("q/x/y"));
    }

    #[test]
    fn clean_is_gos_filepath_clean() {
        for (input, want) in [
            ("", "."),
            ("a//b", "a/b"),
            ("a/./b/", "a/b"),
            ("a/../../b", "../b"),
            ("/../a", "/a"),
            ("/", "/"),
            ("./", "."),
            ("!docs/", "!docs"),
        ] {
            assert_eq!(clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn copy_globs_are_filepath_match_per_component() {
        let g = Glob::new("*.txt").unwrap();
        assert!(g.is_match("a.txt") && g.is_match(".txt") && !g.is_match("a.txt2"));
        let g = Glob::new("f[0-9]?").unwrap();
        assert!(g.is_match("f1x") && !g.is_match("fax"));
        let g = Glob::new("a\\*").unwrap();
        assert!(g.is_match("a*") && !g.is_match("ab"));
        let g = Glob::new("[^.]*").unwrap();
        assert!(g.is_match("x") && !g.is_match(".x"));
        assert!(Glob::new("[").is_err());
        assert!(has_wildcards("src/*.rs") && has_wildcards("a?") && has_wildcards("[ab]"));
        assert!(!has_wildcards("a\\*b") && !has_wildcards("plain/path"));
    }
}
