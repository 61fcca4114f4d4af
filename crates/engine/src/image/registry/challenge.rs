//! `WWW-Authenticate` challenges (RFC 7235): `Basic realm="x"`, `Bearer realm="...",
//! service="...",scope="repository:a/b:pull"`, several in one header or in several
//! headers; quoted strings may hold commas and `\`-escapes.

/// One challenge: its scheme (lowercased) and parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every challenge in the header values, in order; what cannot be parsed is skipped.
pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut all = Vec::new();
    for header in headers {
        parse_one(header, &mut all);
    }
    all
}

fn parse_one(header: &str, out: &mut Vec<Challenge>) {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    loop {
        p.skip(|b| b == b' ' || b == b'\t' || b == b',');
        let Some(scheme) = p.token() else { return };
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        // Parameters follow until a token that is not followed by `=` (the next scheme).
        loop {
            p.skip(|b| b == b' ' || b == b'\t' || b == b',');
            let mark = p.i;
            let Some(name) = p.token() else { break };
            p.skip(|b| b == b' ' || b == b'\t');
            if p.peek() != Some(b'=') {
                p.i = mark;
                break;
            }
            p.i += 1;
            p.skip(|b| b == b' ' || b == b'\t');
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
        }
        out.push(challenge);
        if p.i >= p.s.len() {
            return;
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    /// A token (RFC 7230 tchar, plus `/` for token68 values such as base64).
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        self.skip(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&b));
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A quoted string starting at `"`; an unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        self.i += 1;
        let mut value = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        value.push(next);
                        self.i += 1;
                    }
                }
                _ => value.push(b),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(header: &str) -> Challenge {
        let all = parse([header]);
        assert_eq!(all.len(), 1, "{all:?}");
        all.into_iter().next().unwrap()
    }

    #[test]
    fn basic_and_bearer_challenges_parse() {
        let c = one(r#"Basic realm="Registry Realm""#);
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.param("realm"), Some("Registry Realm"));

        let c = one(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("service"), Some("registry.docker.io"));
        assert_eq!(
            c.param("scope"),
            Some("repository:library/alpine:pull,push")
        );
    }

    #[test]
    fn unquoted_spaces_escapes_and_case() {
        let c = one(r#"BEARER Realm = https://h/t , Service=reg, scope="a\"b""#);
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://h/t"));
        assert_eq!(c.param("service"), Some("reg"));
        assert_eq!(c.param("scope"), Some("a\"b"));
    }

    #[test]
    fn several_challenges_in_one_header_and_in_several() {
        let all = parse([r#"Basic realm="a, b", Bearer realm="https://t/x",service="s""#]);
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0].param("realm"), Some("a, b"));
        assert_eq!(all[1].scheme, "bearer");
        assert_eq!(all[1].param("service"), Some("s"));

        let all = parse(["Negotiate", r#"Basic realm="r""#]);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].scheme, "negotiate");
        assert!(all[0].params.is_empty());
        assert_eq!(all[1].scheme, "basic");
    }

    #[test]
    fn garbage_does_not_panic() {
        for h in [
            "",
            ",,,",
            "=",
            "\"",
            "Bearer realm=\"unterminated",
            "Bearer =x",
            "\u{7f}é",
        ] {
            let _ = parse([h]);
        }
        assert_eq!(
            one("Bearer realm=\"unterminated").param("realm"),
            Some("unterminated")
        );
    }
}
