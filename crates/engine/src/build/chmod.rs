//! COPY/ADD `--chmod`: an octal mode, or chmod(1)'s symbolic clauses (`u+x`, `go=r`,
//! `a-w,u+s`), as BuildKit takes them (its `mode` package with a zero umask).

use crate::error::{Error, ErrorKind, Result};

/// A `--chmod` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chmod {
    /// Replaces the permission bits (with setuid, setgid, sticky) of every entry.
    Octal(u32),
    /// Changes each entry's own mode.
    Symbolic(Vec<Clause>),
}

/// One `who op perms` clause of a symbolic mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The bits `who` selects (0 for none written: all).
    who: u32,
    ops: Vec<(Op, Perms)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Set,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Perms {
    /// `r`, `w`, `x`, `s`, `t` as mode bits, and whether `X` was given.
    Bits { bits: u32, cap_x: bool },
    /// Copied from the user, group or other bits of the entry (`g=u`).
    Copy(u32),
}

const WHO_U: u32 = 0o4700;
const WHO_G: u32 = 0o2070;
const WHO_O: u32 = 0o1007;

impl Chmod {
    /// Parses a `--chmod` value; the error is BuildKit's for a numeric-looking one.
    pub fn parse(text: &str) -> Result<Chmod> {
        let octal_err = || {
            Error::Build {
            kind: ErrorKind::InvalidArgument,
            message: format!(
                "invalid chmod parameter: '{text}'. it should be octal string and between 0 and 07777"
            ),
        }
        };
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let mode = u32::from_str_radix(text, 8).map_err(|_| octal_err())?;
            if mode > 0o7777 {
                return Err(octal_err());
            }
            return Ok(Chmod::Octal(mode));
        }
        let bad = || Error::Build {
            kind: ErrorKind::InvalidArgument,
            message: format!("invalid chmod parameter: '{text}': not an octal or symbolic mode"),
        };
        let mut clauses = Vec::new();
        for part in text.split(',') {
            let mut chars = part.chars().peekable();
            let mut who = 0;
            while let Some(&c) = chars.peek() {
                who |= match c {
                    'u' => WHO_U,
                    'g' => WHO_G,
                    'o' => WHO_O,
                    'a' => WHO_U | WHO_G | WHO_O,
                    _ => break,
                };
                chars.next();
            }
            let mut ops = Vec::new();
            while let Some(c) = chars.next() {
                let op = match c {
                    '+' => Op::Add,
                    '-' => Op::Remove,
                    '=' => Op::Set,
                    _ => return Err(bad()),
                };
                let perms = match chars.peek() {
                    Some('u') | Some('g') | Some('o') => {
                        let from = match chars.next() {
                            Some('u') => WHO_U,
                            Some('g') => WHO_G,
                            _ => WHO_O,
                        };
                        Perms::Copy(from)
                    }
                    _ => {
                        let (mut bits, mut cap_x) = (0, false);
                        while let Some(&c) = chars.peek() {
                            bits |= match c {
                                'r' => 0o444,
                                'w' => 0o222,
                                'x' => 0o111,
                                'X' => {
                                    cap_x = true;
                                    0
                                }
                                's' => 0o6000,
                                't' => 0o1000,
                                _ => break,
                            };
                            chars.next();
                        }
                        Perms::Bits { bits, cap_x }
                    }
                };
                ops.push((op, perms));
            }
            if ops.is_empty() {
                return Err(bad());
            }
            clauses.push(Clause { who, ops });
        }
        Ok(Chmod::Symbolic(clauses))
    }

    /// The mode an entry gets from its own (`mode`: permission bits with setuid, setgid,
    /// sticky).
    pub fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        match self {
            Chmod::Octal(m) => m & 0o7777,
            Chmod::Symbolic(clauses) => {
                let mut mode = mode & 0o7777;
                for clause in clauses {
                    let who = if clause.who == 0 {
                        WHO_U | WHO_G | WHO_O
                    } else {
                        clause.who
                    };
                    for &(op, perms) in &clause.ops {
                        let bits = match perms {
                            Perms::Bits { bits, cap_x } => {
                                let x = if cap_x && (is_dir || mode & 0o111 != 0) {
                                    0o111
                                } else {
                                    0
                                };
                                bits | x
                            }
                            Perms::Copy(from) => {
                                // The rwx of `from`, spread to every class.
                                let rwx = match from {
                                    WHO_U => (mode >> 6) & 7,
                                    WHO_G => (mode >> 3) & 7,
                                    _ => mode & 7,
                                };
                                rwx * 0o111
                            }
                        };
                        let bits = bits & who;
                        mode = match op {
                            Op::Add => mode | bits,
                            Op::Remove => mode & !bits,
                            // `=` clears the class's rwx (and its special bit) first.
                            Op::Set => (mode & !who) | bits,
                        };
                    }
                }
                mode
            }
        }
    }

    /// The mode of a directory the copy creates: the octal mode, or 0755 (BuildKit).
    pub fn created_dir_mode(chmod: Option<&Chmod>) -> u32 {
        match chmod {
            Some(Chmod::Octal(m)) => m & 0o7777,
            _ => 0o755,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_and_symbolic_modes() {
        assert_eq!(Chmod::parse("755").unwrap(), Chmod::Octal(0o755));
        assert_eq!(Chmod::parse("4755").unwrap().apply(0o600, false), 0o4755);
        for bad in ["8", "17777", ""] {
            assert!(Chmod::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Chmod::parse("12345").unwrap_err().to_string(),
            "invalid chmod parameter: '12345'. it should be octal string and between 0 and 07777"
        );
        let cases = [
            ("u+x", 0o644, false, 0o744),
            ("a-w", 0o664, false, 0o444),
            ("go=r", 0o777, false, 0o744),
            ("+x", 0o600, false, 0o711),
            ("a+X", 0o644, false, 0o644),
            ("a+X", 0o644, true, 0o755),
            ("a+X", 0o744, false, 0o755),
            ("u+s,g+s", 0o755, false, 0o6755),
            ("o+t", 0o777, true, 0o1777),
            ("g=u", 0o640, false, 0o660),
            ("u=rw,go=", 0o777, false, 0o600),
        ];
        for (text, mode, is_dir, want) in cases {
            let got = Chmod::parse(text).unwrap().apply(mode, is_dir);
            assert_eq!(got, want, "{text} on {mode:o}: got {got:o}");
        }
        for bad in ["u", "x+", "u+z", "a=r,", "q+x"] {
            assert!(Chmod::parse(bad).is_err(), "{bad}");
        }
    }
}
