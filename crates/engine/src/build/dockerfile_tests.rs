use super::*;
use std::collections::HashMap;

fn parse_ok(text: &str) -> Dockerfile {
    match parse("Dockerfile", text) {
        Ok(d) => d,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

/// The only instruction of the only stage.
fn only(text: &str) -> Instruction {
    let d = parse_ok(&format!("FROM scratch\n{text}"));
    assert_eq!(d.stages.len(), 1);
    assert_eq!(d.stages[0].instructions.len(), 1, "{text:?}");
    d.stages[0].instructions[0].value.clone()
}

fn error(text: &str) -> (usize, String) {
    match parse("Dockerfile", text) {
        Ok(d) => panic!("{text:?} parsed: {d:?}"),
        Err(e) => (e.line, e.message),
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (s(k), s(v))).collect()
}

fn vars(list: &[(&str, &str)]) -> HashMap<String, String> {
    list.iter().map(|(k, v)| (s(k), s(v))).collect()
}

#[test]
fn every_instruction_parses_to_its_model() {
    let cases: Vec<(&str, Instruction)> = vec![
        (
            "RUN make all",
            Instruction::Run(Run {
                command: CommandForm::Shell(s("make all")),
                heredocs: vec![],
                mounts: vec![],
                network: None,
                mount_specs: vec![],
            }),
        ),
        (
            r#"RUN ["echo", "a b"]"#,
            Instruction::Run(Run {
                command: CommandForm::Exec(vec![s("echo"), s("a b")]),
                heredocs: vec![],
                mounts: vec![],
                network: None,
                mount_specs: vec![],
            }),
        ),
        // Not valid JSON: shell form, as Docker does.
        (
            r#"CMD ["echo", 'a']"#,
            Instruction::Cmd(CommandForm::Shell(s(r#"["echo", 'a']"#))),
        ),
        (
            r#"CMD ["nginx", "-g", "daemon off;"]"#,
            Instruction::Cmd(CommandForm::Exec(vec![
                s("nginx"),
                s("-g"),
                s("daemon off;"),
            ])),
        ),
        ("CMD []", Instruction::Cmd(CommandForm::Exec(vec![]))),
        (
            "ENTRYPOINT exec top -b",
            Instruction::Entrypoint(CommandForm::Shell(s("exec top -b"))),
        ),
        (
            "ENV A=1 B=\"two words\" C=x\\ y",
            Instruction::Env(pairs(&[("A", "1"), ("B", "\"two words\""), ("C", "x\\ y")])),
        ),
        (
            "ENV LEGACY value with  spaces",
            Instruction::Env(pairs(&[("LEGACY", "value with  spaces")])),
        ),
        ("ENV EMPTY=", Instruction::Env(pairs(&[("EMPTY", "")]))),
        (
            "ARG A B=2 C=\"x y\"",
            Instruction::Arg(vec![
                ArgDecl {
                    name: s("A"),
                    default: None,
                },
                ArgDecl {
                    name: s("B"),
                    default: Some(s("2")),
                },
                ArgDecl {
                    name: s("C"),
                    default: Some(s("\"x y\"")),
                },
            ]),
        ),
        ("WORKDIR /app/src", Instruction::Workdir(s("/app/src"))),
        ("USER app:app", Instruction::User(s("app:app"))),
        (
            r#"SHELL ["/bin/bash", "-o", "pipefail", "-c"]"#,
            Instruction::Shell(vec![s("/bin/bash"), s("-o"), s("pipefail"), s("-c")]),
        ),
        (
            "EXPOSE 80/tcp 443 53/udp",
            Instruction::Expose(vec![s("80/tcp"), s("443"), s("53/udp")]),
        ),
        (
            "LABEL a=b \"c d\"=\"e f\"",
            Instruction::Label(pairs(&[("a", "b"), ("\"c d\"", "\"e f\"")])),
        ),
        (
            r#"VOLUME ["/data", "/logs"]"#,
            Instruction::Volume(vec![s("/data"), s("/logs")]),
        ),
        (
            "VOLUME /data /logs",
            Instruction::Volume(vec![s("/data"), s("/logs")]),
        ),
        ("STOPSIGNAL SIGTERM", Instruction::Stopsignal(s("SIGTERM"))),
        (
            "MAINTAINER Jane Doe <jane@example.com>",
            Instruction::Maintainer(s("Jane Doe <jane@example.com>")),
        ),
        ("ONBUILD RUN make", Instruction::Onbuild(s("RUN make"))),
        (
            "HEALTHCHECK NONE",
            Instruction::Healthcheck(Healthcheck::None),
        ),
        (
            "HEALTHCHECK --interval=30s --timeout=1m30s --retries=3 CMD curl -f http://localhost/",
            Instruction::Healthcheck(Healthcheck::Cmd {
                test: CommandForm::Shell(s("curl -f http://localhost/")),
                interval: Some(Duration::from_secs(30)),
                timeout: Some(Duration::from_secs(90)),
                start_period: None,
                start_interval: None,
                retries: Some(3),
            }),
        ),
        (
            r#"HEALTHCHECK --start-period=0s --start-interval=500ms CMD ["true"]"#,
            Instruction::Healthcheck(Healthcheck::Cmd {
                test: CommandForm::Exec(vec![s("true")]),
                interval: None,
                timeout: None,
                start_period: None,
                start_interval: Some(Duration::from_millis(500)),
                retries: None,
            }),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(only(text), expected, "{text}");
    }
}

#[test]
fn copy_and_add_flags_and_forms() {
    let Instruction::Copy(c) =
        only("COPY --from=build --chown=app:app --chmod=755 --link a b /dst/")
    else {
        panic!("not a copy")
    };
    assert!(!c.add);
    assert_eq!(c.sources, vec![s("a"), s("b")]);
    assert_eq!(c.dest, "/dst/");
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("app:app"));
    assert_eq!(c.chmod.as_deref(), Some("755"));
    assert!(c.link);
    let Instruction::Copy(c) = only(r#"ADD --keep-git-dir --checksum=sha256:abc ["a b", "/c d/"]"#)
    else {
        panic!("not an add")
    };
    assert!(c.add && c.keep_git_dir);
    assert_eq!(c.sources, vec![s("a b")]);
    assert_eq!(c.dest, "/c d/");
    assert_eq!(c.checksum.as_deref(), Some("sha256:abc"));
    let Instruction::Copy(c) = only("COPY --link=false x /y") else {
        panic!()
    };
    assert!(!c.link);
}

#[test]
fn stages_names_platform_and_global_args() {
    let d = parse_ok(
        "# syntax=docker/dockerfile:1\nARG BASE=alpine\nARG V\nFROM --platform=$BUILDPLATFORM ${BASE}:3 AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n",
    );
    assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
    assert!(
        d.notes[0].contains("# syntax=docker/dockerfile:1 ignored"),
        "{:?}",
        d.notes
    );
    assert_eq!(d.global_args.len(), 2);
    assert_eq!(
        d.global_args[0].value,
        ArgDecl {
            name: s("BASE"),
            default: Some(s("alpine"))
        }
    );
    assert_eq!(d.global_args[1].line, 3);
    assert_eq!(d.stages.len(), 2);
    let build = &d.stages[0];
    assert_eq!(build.index, 0);
    assert_eq!(build.name.as_deref(), Some("build"));
    assert_eq!(build.from.line, 4);
    assert_eq!(build.from.value.image, "${BASE}:3");
    assert_eq!(build.from.value.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(
        build.from.source,
        "FROM --platform=$BUILDPLATFORM ${BASE}:3 AS Build"
    );
    let env = vars(&[("BASE", "alpine"), ("BUILDPLATFORM", "linux/amd64")]);
    let expanded = build
        .from
        .value
        .expanded(&|n| env.get(n).cloned(), d.escape)
        .unwrap();
    assert_eq!(expanded.image, "alpine:3");
    assert_eq!(expanded.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(d.stages[1].index, 1);
    assert_eq!(d.stages[1].name, None);
    assert_eq!(d.stages[1].instructions[0].line, 7);
}

#[test]
fn continuations_comments_and_empty_lines() {
    let d = parse_ok(concat!(
        "FROM busybox\n",
        "RUN apt-get update \\\n",
        "# a comment inside\n",
        "\n",
        "    && apt-get install -y \\  \n",
        "      curl\n",
        "  # indented comment\n",
        "ENV A=1 \\\n",
        "    B=2\n",
    ));
    let run = &d.stages[0].instructions[0];
    assert_eq!(run.line, 2);
    assert_eq!(
        run.value,
        only("RUN apt-get update     && apt-get install -y       curl")
    );
    assert_eq!(
        run.source,
        "RUN apt-get update     && apt-get install -y       curl"
    );
    let env = &d.stages[0].instructions[1];
    assert_eq!(env.line, 8);
    assert_eq!(
        env.value,
        Instruction::Env(pairs(&[("A", "1"), ("B", "2")]))
    );
}

#[test]
fn escape_directive_makes_backtick_the_continuation() {
    let d = parse_ok(
        "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir c:\\ `\n  /s\nWORKDIR C:\\app\n",
    );
    assert_eq!(d.escape, '`');
    assert_eq!(d.stages[0].instructions[0].value, only("RUN dir c:\\   /s"));
    assert_eq!(
        d.stages[0].instructions[1].value,
        Instruction::Workdir(s("C:\\app"))
    );
    // Directives are read only at the top and are case-insensitive.
    let d = parse_ok("# ESCAPE = `\nFROM x\n");
    assert_eq!(d.escape, '`');
    let d = parse_ok("FROM x\n# escape=`\nRUN a \\\n b\n");
    assert_eq!(d.escape, '\\');
    assert_eq!(d.stages[0].instructions[0].value, only("RUN a  b"));
    let (line, message) = error("# escape=x\nFROM x\n");
    assert_eq!(
        (line, message.as_str()),
        (1, "invalid escape token 'x' does not match ` or \\")
    );
    let (line, message) = error("# escape=`\n# escape=\\\nFROM x\n");
    assert_eq!(
        (line, message.as_str()),
        (2, "only one escape parser directive can be used")
    );
}

#[test]
fn heredocs_in_run_and_copy() {
    let d = parse_ok(concat!(
        "FROM alpine\n",
        "RUN <<EOF\n",
        "echo hello\n",
        "echo $HOME\n",
        "EOF\n",
        "RUN python3 <<'PY' > /out; cat <<-END\n",
        "print('hi')\n",
        "PY\n",
        "\t\tindented\n",
        "\tEND\n",
        "COPY --chmod=755 <<EOF1 <<\"EOF2\" /dest/\n",
        "one $X\n",
        "EOF1\n",
        "two $X\n",
        "EOF2\n",
        "CMD [\"sh\"]\n",
    ));
    let ins = &d.stages[0].instructions;
    assert_eq!(ins.len(), 4);
    let Instruction::Run(run) = &ins[0].value else {
        panic!()
    };
    assert_eq!(run.command, CommandForm::Shell(s("<<EOF")));
    assert_eq!(
        run.heredocs,
        vec![Heredoc {
            name: s("EOF"),
            content: s("echo hello\necho $HOME\n"),
            expand: true,
            strip_tabs: false
        }]
    );
    let Instruction::Run(run) = &ins[1].value else {
        panic!()
    };
    assert_eq!(ins[1].line, 6);
    assert_eq!(run.heredocs.len(), 2);
    assert_eq!(
        run.heredocs[0],
        Heredoc {
            name: s("PY"),
            content: s("print('hi')\n"),
            expand: false,
            strip_tabs: false
        }
    );
    assert_eq!(
        run.heredocs[1],
        Heredoc {
            name: s("END"),
            content: s("indented\n"),
            expand: true,
            strip_tabs: true
        }
    );
    let Instruction::Copy(copy) = &ins[2].value else {
        panic!()
    };
    assert_eq!(ins[2].line, 11);
    assert!(copy.sources.is_empty());
    assert_eq!(copy.dest, "/dest/");
    assert_eq!(copy.heredocs.len(), 2);
    assert_eq!(
        (copy.heredocs[0].name.as_str(), copy.heredocs[0].expand),
        ("EOF1", true)
    );
    assert_eq!(
        (copy.heredocs[1].name.as_str(), copy.heredocs[1].expand),
        ("EOF2", false)
    );
    let env = vars(&[("X", "x")]);
    let Instruction::Copy(expanded) = ins[2]
        .value
        .expanded(&|n| env.get(n).cloned(), '\\')
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(expanded.heredocs[0].content, "one x\n");
    assert_eq!(expanded.heredocs[1].content, "two $X\n");
    assert_eq!(ins[3].line, 16);
    // An exec-form RUN has no here-documents: `<<EOF` is an argument.
    assert_eq!(
        only(r#"RUN ["cat", "<<EOF"]"#),
        Instruction::Run(Run {
            command: CommandForm::Exec(vec![s("cat"), s("<<EOF")]),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            mount_specs: vec![],
        })
    );
    let (line, message) = error("FROM x\nRUN <<EOF\nnever ends\n");
    assert_eq!((line, message.as_str()), (2, "unterminated heredoc"));
    let (_, message) = error("FROM x\nCOPY a <<EOF\nx\nEOF\n");
    assert_eq!(message, "COPY cannot accept a heredoc as a destination");
}

#[test]
fn run_mounts_and_network() {
    let Instruction::Run(run) = only(concat!(
        "RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1000 ",
        "--mount=type=bind,source=src,target=/src,rw ",
        "--mount=target=/ctx ",
        "--mount=type=tmpfs,target=/tmp,size=64m ",
        "--network=none make"
    )) else {
        panic!()
    };
    assert_eq!(run.command, CommandForm::Shell(s("make")));
    assert_eq!(run.network, Some(RunNetwork::None));
    assert_eq!(
        run.mounts,
        vec![
            RunMount::Cache {
                target: s("/root/.cache"),
                id: Some(s("pip")),
                sharing: CacheSharing::Locked,
                from: None,
                source: None,
                mode: Some(0o700),
                uid: Some(1000),
                gid: None,
                read_only: false
            },
            RunMount::Bind {
                target: s("/src"),
                source: Some(s("src")),
                from: None,
                read_write: true
            },
            RunMount::Bind {
                target: s("/ctx"),
                source: None,
                from: None,
                read_write: false
            },
            RunMount::Tmpfs {
                target: s("/tmp"),
                size: Some(64 << 20)
            },
        ]
    );
    // Values with variables are final after expansion.
    let Instruction::Run(run) = only("RUN --mount=type=cache,target=$DIR,uid=$UID true") else {
        panic!()
    };
    let env = vars(&[("DIR", "/cache"), ("UID", "7")]);
    let Instruction::Run(expanded) = Instruction::Run(run)
        .expanded(&|n| env.get(n).cloned(), '\\')
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        expanded.mounts,
        vec![RunMount::Cache {
            target: s("/cache"),
            id: None,
            sharing: CacheSharing::Shared,
            from: None,
            source: None,
            mode: None,
            uid: Some(7),
            gid: None,
            read_only: false
        }]
    );
    assert_eq!(expanded.command, CommandForm::Shell(s("true")));
    for (text, wanted) in [
        (
            "RUN --mount=type=secret,id=x cat /run/secrets/x",
            "RUN --mount=type=secret is not supported by berth build yet",
        ),
        (
            "RUN --mount=type=ssh git clone x",
            "RUN --mount=type=ssh is not supported by berth build yet",
        ),
        (
            "RUN --mount=type=nfs,target=/x true",
            "unsupported mount type \"nfs\"",
        ),
        (
            "RUN --mount=type=bind,target=/x,uid=1 true",
            "uid not allowed for \"bind\" type mounts",
        ),
        (
            "RUN --mount=type=cache,target=/x,bogus=1 true",
            "unexpected key 'bogus' in 'bogus=1'",
        ),
        (
            "RUN --mount=type=cache,target=/x,mode=999 true",
            "invalid value 999 for mode",
        ),
        (
            "RUN --mount=type=bind,target=/x,from=$STAGE true",
            "'from' doesn't support variable expansion, define alias stage instead",
        ),
        (
            "RUN --network=bridge true",
            "invalid network mode \"bridge\"",
        ),
        ("RUN --network true", "missing a value on flag: --network"),
        ("RUN --mount true", "missing a value on flag: --mount"),
    ] {
        let (line, message) = error(&format!("FROM x\n{text}\n"));
        assert_eq!((line, message.as_str()), (2, wanted), "{text}");
    }
}

#[test]
fn flags_an_instruction_does_not_know_are_named() {
    for (text, wanted) in [
        ("COPY --chwon=app a /b", "unknown flag: --chwon"),
        ("ADD --from=build a /b", "unknown flag: --from"),
        ("RUN --mnt=type=cache,target=/x true", "unknown flag: --mnt"),
        ("WORKDIR --x /a", "unknown flag: --x"),
        (
            "COPY --link --link a /b",
            "duplicate flag specified: --link",
        ),
        (
            "COPY --link=maybe a /b",
            "expecting boolean value for flag --link, not: maybe",
        ),
        (
            "HEALTHCHECK --interval=1us CMD true",
            "Interval \"interval\" cannot be less than 1ms",
        ),
        (
            "HEALTHCHECK --interval=soon CMD true",
            "time: invalid duration \"soon\"",
        ),
        (
            "HEALTHCHECK --retries=-1 CMD true",
            "--retries cannot be negative (-1)",
        ),
    ] {
        let (line, message) = error(&format!("FROM x\n{text}\n"));
        assert_eq!((line, message.as_str()), (2, wanted), "{text}");
    }
    let (line, message) = error("FROM --plaform=linux/amd64 x\n");
    assert_eq!((line, message.as_str()), (1, "unknown flag: --plaform"));
}

#[test]
fn errors_name_the_line_in_buildkit_words() {
    for (text, line, wanted) in [
        ("FROM x\nRUN true\n\nRUNN make\n", 4, "unknown instruction: RUNN (did you mean RUN?)"),
        ("FROM x\nFOOBAR x\n", 2, "unknown instruction: FOOBAR"),
        ("RUN true\nFROM x\n", 1, "no build stage in current context"),
        ("ARG A\n", 0, "dockerfile contains no stages to build"),
        ("# only a comment\n\n", 0, "file with no instructions"),
        ("", 0, "file with no instructions"),
        ("FROM x AS 1st\n", 1, "invalid name for build stage: \"1st\", name can't start with a number or contain symbols"),
        ("FROM x AS a$b\n", 1, "invalid name for build stage: \"a$b\", name can't start with a number or contain symbols"),
        ("FROM x y\n", 1, "FROM requires either one or three arguments"),
        ("FROM\n", 1, "FROM requires either one or three arguments"),
        ("FROM x\nONBUILD FROM y\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
        ("FROM x\nONBUILD MAINTAINER me\n", 2, "MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("FROM x\nONBUILD ONBUILD RUN x\n", 2, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("FROM x\nONBUILD RUNN x\n", 2, "unknown instruction: RUNN (did you mean RUN?)"),
        ("FROM x\nENV\n", 2, "ENV requires at least one argument"),
        ("FROM x\nENV A\n", 2, "ENV must have two arguments"),
        ("FROM x\nENV A=1 B\n", 2, "Syntax error - can't find = in \"B\". Must be of the form: name=value"),
        ("FROM x\nLABEL =x\n", 2, "LABEL names can not be blank"),
        ("FROM x\nARG =x\n", 2, "ARG names can not be blank"),
        ("FROM x\nCOPY a\n", 2, "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
        ("FROM x\nWORKDIR\n", 2, "WORKDIR requires exactly one argument"),
        ("FROM x\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
        ("FROM x\nSHELL /bin/sh -c\n", 2, "SHELL requires the arguments to be in JSON form"),
        ("FROM x\nCMD [\"a\", 1]\n", 2, "when using JSON array syntax, arrays must be comprised of strings only"),
        ("FROM x\nVOLUME [\"\"]\n", 2, "VOLUME specified can not be an empty string"),
        ("FROM x\nHEALTHCHECK NONE x\n", 2, "HEALTHCHECK NONE takes no arguments"),
        ("FROM x\nHEALTHCHECK CMD\n", 2, "Missing command after HEALTHCHECK CMD"),
        ("FROM x\nHEALTHCHECK RUN true\n", 2, "Unknown type \"RUN\" in HEALTHCHECK (try CMD)"),
        ("# syntax=a\n# syntax=b\nFROM x\n", 2, "only one syntax parser directive can be used"),
    ] {
        let err = parse("Dockerfile", text).expect_err(text);
        assert_eq!((err.line, err.message.as_str()), (line, wanted), "{text:?}");
    }
    let err = parse("app.Dockerfile", "FROM x\nRUNN make\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "app.Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"
    );
    let err = parse("Dockerfile", "").unwrap_err();
    assert_eq!(err.to_string(), "Dockerfile: file with no instructions");
}

#[test]
fn expanded_replaces_what_buildkit_expands() {
    let env = vars(&[
        ("V", "1.2"),
        ("DIR", "/opt/app"),
        ("U", "app"),
        ("P", "8080 9090"),
    ]);
    let get = |n: &str| env.get(n).cloned();
    let cases = [
        (
            "ENV A=$V B=\"x y\" C='$V'",
            Instruction::Env(pairs(&[("A", "1.2"), ("B", "x y"), ("C", "$V")])),
        ),
        (
            "LABEL version=${V:-0} \"k\"=v",
            Instruction::Label(pairs(&[("version", "1.2"), ("k", "v")])),
        ),
        (
            "ARG X=${V}-rc Y",
            Instruction::Arg(vec![
                ArgDecl {
                    name: s("X"),
                    default: Some(s("1.2-rc")),
                },
                ArgDecl {
                    name: s("Y"),
                    default: None,
                },
            ]),
        ),
        ("WORKDIR $DIR/src", Instruction::Workdir(s("/opt/app/src"))),
        ("USER ${U}:${U}", Instruction::User(s("app:app"))),
        (
            "STOPSIGNAL ${SIG:-SIGQUIT}",
            Instruction::Stopsignal(s("SIGQUIT")),
        ),
        (
            "VOLUME $DIR/data",
            Instruction::Volume(vec![s("/opt/app/data")]),
        ),
        (
            "EXPOSE $P 80",
            Instruction::Expose(vec![s("8080"), s("9090"), s("80")]),
        ),
        // Commands are the shell's to expand.
        (
            "RUN echo $V",
            Instruction::Run(Run {
                command: CommandForm::Shell(s("echo $V")),
                heredocs: vec![],
                mounts: vec![],
                network: None,
                mount_specs: vec![],
            }),
        ),
        (
            "CMD echo $V",
            Instruction::Cmd(CommandForm::Shell(s("echo $V"))),
        ),
        (
            "ENTRYPOINT [\"$V\"]",
            Instruction::Entrypoint(CommandForm::Exec(vec![s("$V")])),
        ),
    ];
    for (text, wanted) in cases {
        assert_eq!(only(text).expanded(&get, '\\').unwrap(), wanted, "{text}");
    }
    let Instruction::Copy(c) = only("COPY --chown=$U --chmod=${MODE:-644} src-$V/ $DIR/")
        .expanded(&get, '\\')
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (c.chown.as_deref(), c.chmod.as_deref()),
        (Some("app"), Some("644"))
    );
    assert_eq!(
        (c.sources[0].as_str(), c.dest.as_str()),
        ("src-1.2/", "/opt/app/")
    );
    let err = only("COPY --from=$STAGE a /b")
        .expanded(&get, '\\')
        .unwrap_err();
    assert!(
        err.message
            .contains("variable expansion is not supported for --from"),
        "{err}"
    );
    let err = only("WORKDIR ${NOPE:?must be set}")
        .expanded(&get, '\\')
        .unwrap_err();
    assert_eq!(err.message, "NOPE: must be set");
}

#[test]
fn names_and_sources() {
    let d = parse_ok("FROM x\ncopy a /b\nADD a /b\nrun  true  \n");
    let names: Vec<&str> = d.stages[0]
        .instructions
        .iter()
        .map(|i| i.value.name())
        .collect();
    assert_eq!(names, ["COPY", "ADD", "RUN"]);
    assert_eq!(d.stages[0].instructions[2].source, "run  true");
}

#[test]
fn a_bom_crlf_and_duplicate_stage_names() {
    let d = parse_ok("\u{feff}FROM a AS x\r\nRUN true\r\nFROM b AS x\r\n");
    assert_eq!(d.stages[0].from.value.image, "a");
    assert_eq!(d.stages[0].instructions[0].value, only("RUN true"));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("duplicate stage name \"x\"")),
        "{:?}",
        d.notes
    );
}

/// BuildKit's instruction-level error cases (instructions/parse_test.go).
#[test]
fn buildkit_instruction_error_cases() {
    let mut cases: Vec<(String, String)> = Vec::new();
    for cmd in ["MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL"] {
        cases.push((s(cmd), format!("{cmd} requires exactly one argument")));
    }
    for cmd in ["ENV", "LABEL", "ONBUILD", "HEALTHCHECK", "EXPOSE", "VOLUME"] {
        cases.push((s(cmd), format!("{cmd} requires at least one argument")));
    }
    for cmd in ["ADD", "COPY"] {
        cases.push((
            format!("{cmd} arg1"),
            format!("{cmd} requires at least two arguments, but only one was provided. Destination could not be determined"),
        ));
    }
    cases.push((s("COPY\t\n\t\tquux \\\n      bar"), s("COPY requires at least two arguments, but only one was provided. Destination could not be determined")));
    cases.push((
        s("ONBUILD FROM scratch"),
        s("FROM isn't allowed as an ONBUILD trigger"),
    ));
    cases.push((
        s("MAINTAINER --boo joe@example.com"),
        s("unknown flag: --boo"),
    ));
    cases.push((
        s("ONBUILD ONBUILD RUN touch foobar"),
        s("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ));
    // BuildKit's test checks a prefix; its suggestion (edit distance < 3) is in the
    // word's case.
    cases.push((
        s("FOO bar"),
        s("unknown instruction: FOO (did you mean FROM?)"),
    ));
    cases.push((
        s("foo bar"),
        s("unknown instruction: foo (did you mean from?)"),
    ));
    cases.push((
        s("Runn make"),
        s("unknown instruction: Runn (did you mean RUN?)"),
    ));
    cases.push((s("FOOBAR bar"), s("unknown instruction: FOOBAR")));
    for (text, wanted) in cases {
        let (line, message) = error(&format!("FROM busybox\n{text}\n"));
        assert_eq!((line, message.as_str()), (2, wanted.as_str()), "{text:?}");
    }
    // HEALTHCHECK CMD's shell form joins its words; 0 means "inherit", under 1ms is refused.
    let Instruction::Healthcheck(Healthcheck::Cmd { test, interval, .. }) =
        only("HEALTHCHECK --interval=0ms CMD hello world")
    else {
        panic!()
    };
    assert_eq!(
        (test, interval),
        (CommandForm::Shell(s("hello world")), None)
    );
    let (_, message) = error("FROM x\nHEALTHCHECK --interval=50ns CMD true\n");
    assert!(message.contains("cannot be less than 1ms"), "{message}");
    assert!(matches!(
        only("HEALTHCHECK --interval=1ms CMD true"),
        Instruction::Healthcheck(_)
    ));
}
