use serde_json::{json, Value};

use super::Template;

fn data() -> Value {
    json!({
        "Names": "web",
        "ID": "0123456789ab",
        "Size": 1234,
        "Ratio": 0.5,
        "Running": true,
        "Empty": "",
        "Labels": "tier=web,team=core",
        "State": {"Running": true, "Status": "running", "ExitCode": 0},
        "Mounts": [
            {"Source": "/a", "Destination": "/x", "RW": true},
            {"Source": "/b", "Destination": "/y", "RW": false},
        ],
        "Config": {"Labels": {"k": "v", "a.b": "c"}, "Cmd": ["sh", "-c", "true"], "Env": null},
    })
}

fn render(template: &str) -> String {
    Template::parse(template)
        .unwrap_or_else(|e| panic!("{template}: {e}"))
        .render(&data())
        .unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn parse_error(template: &str) -> String {
    match Template::parse(template) {
        Ok(_) => panic!("{template} should not parse"),
        Err(e) => e.to_string(),
    }
}

fn exec_error(template: &str) -> String {
    let parsed = Template::parse(template).unwrap_or_else(|e| panic!("{template}: {e}"));
    match parsed.render_row(&data(), "container") {
        Ok(out) => panic!("{template} should fail, printed {out:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn text_and_fields() {
    assert_eq!(render("plain text"), "plain text");
    assert_eq!(render("{{.Names}} {{.ID}}"), "web 0123456789ab");
    assert_eq!(
        render("{{.State.Running}}/{{.State.Status}}"),
        "true/running"
    );
    assert_eq!(render("{{.Size}} {{.Ratio}}"), "1234 0.5");
    assert_eq!(render("{{.Config.Env}}"), "<no value>");
    assert_eq!(render("{{.Config.Cmd}}"), "[sh -c true]");
    assert_eq!(render("{{.Config.Labels}}"), "map[a.b:c k:v]");
}

#[test]
fn trim_markers_and_comments() {
    assert_eq!(render("a  {{- .Names -}}  b"), "awebb");
    assert_eq!(render("a {{/* a comment */}}b"), "a b");
    assert_eq!(render("a {{- /* trimmed */ -}} b"), "ab");
}

#[test]
fn range_over_lists_and_maps() {
    assert_eq!(render("{{range .Mounts}}{{.Source}};{{end}}"), "/a;/b;");
    assert_eq!(
        render("{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}} {{end}}"),
        "0=/x 1=/y "
    );
    assert_eq!(
        render("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}"),
        "a.b:c,k:v,"
    );
    assert_eq!(render("{{range .Config.Env}}x{{else}}none{{end}}"), "none");
    assert_eq!(
        render("{{range .Mounts}}{{if not .RW}}{{break}}{{end}}{{.Source}}{{end}}"),
        "/a"
    );
    assert_eq!(render("{{range .Mounts}}{{$.Names}}{{end}}"), "webweb");
}

#[test]
fn if_else_chains_and_with() {
    assert_eq!(render("{{if .Running}}up{{else}}down{{end}}"), "up");
    assert_eq!(
        render("{{if .Empty}}x{{else if .Size}}size{{else}}none{{end}}"),
        "size"
    );
    assert_eq!(
        render("{{if eq .State.Status \"exited\" \"running\"}}yes{{end}}"),
        "yes"
    );
    assert_eq!(render("{{with .State}}{{.Status}}{{end}}"), "running");
    assert_eq!(render("{{with .Empty}}x{{else}}empty{{end}}"), "empty");
    assert_eq!(
        render("{{if and .Running (gt .Size 1000)}}big{{end}}"),
        "big"
    );
    assert_eq!(
        render("{{if or .Empty .Names}}{{or .Empty .Names}}{{end}}"),
        "web"
    );
}

#[test]
fn variables_and_pipelines() {
    assert_eq!(render("{{$n := .Names}}{{$n}}-{{$n | upper}}"), "web-WEB");
    assert_eq!(render("{{$n := 1}}{{$n = 2}}{{$n}}"), "2");
    assert_eq!(render("{{.Names | printf \"%s!\"}}"), "web!");
    assert_eq!(render("{{(index .Mounts 1).Source}}"), "/b");
}

#[test]
fn docker_functions() {
    assert_eq!(
        render("{{json .Mounts}}"),
        r#"[{"Destination":"/x","RW":true,"Source":"/a"},{"Destination":"/y","RW":false,"Source":"/b"}]"#
    );
    assert_eq!(render("{{json .Names}}"), "\"web\"");
    assert_eq!(render("{{join .Config.Cmd \" \"}}"), "sh -c true");
    assert_eq!(render("{{split .Labels \",\"}}"), "[tier=web team=core]");
    assert_eq!(render("{{index (split .Labels \",\") 1}}"), "team=core");
    assert_eq!(render("{{lower \"AbC\"}} {{upper .Names}}"), "abc WEB");
    assert_eq!(render("{{title \"hello big-world\"}}"), "Hello Big-World");
    assert_eq!(
        render("[{{pad .Names 2 1}}][{{pad .Empty 2 1}}]"),
        "[  web ][]"
    );
    assert_eq!(
        render("{{truncate .ID 4}} {{truncate .Names 10}}"),
        "0123 web"
    );
    assert_eq!(render("{{println .Names .Size}}"), "web 1234\n");
}

#[test]
fn go_builtins() {
    assert_eq!(render("{{index .Config.Labels \"a.b\"}}"), "c");
    assert_eq!(render("{{index .Config.Labels \"missing\"}}"), "<no value>");
    assert_eq!(render("{{len .Mounts}} {{len .Names}}"), "2 3");
    assert_eq!(
        render("{{printf \"%-5s|%03d|%.2f|%q|%v\" .Names 7 .Ratio .Names .Running}}"),
        "web  |007|0.50|\"web\"|true"
    );
    assert_eq!(render("{{print 1 2 \"a\" \"b\"}}"), "1 2ab");
    assert_eq!(
        render("{{if ne .Size 1}}{{lt 1 2}} {{le 2 2}} {{ge \"a\" \"b\"}}{{end}}"),
        "true true false"
    );
    assert_eq!(render("{{slice .Names 1}}"), "eb");
    assert_eq!(render("{{range 3}}{{.}}{{end}}"), "012");
}

#[test]
fn label_method_on_rows() {
    let parsed = Template::parse("{{.Label \"team\"}}|{{.Label \"none\"}}").unwrap();
    assert_eq!(parsed.render_row(&data(), "container").unwrap(), "core|");
}

#[test]
fn headers_use_titles_and_pass_docker_functions_through() {
    let titles = json!({"ID": "CONTAINER ID", "Names": "NAMES"});
    let parsed = Template::parse(
        "{{.ID}}\t{{json .Names}}\t{{upper .Names}}\t{{.Label \"team\"}}\t{{.Other}}\t{{.Label \"com.example.team-name_x\"}}",
    )
    .unwrap();
    // A label's column is headed by its key, as Docker's: the last dotted part, with
    // `-` and `_` as spaces.
    assert_eq!(
        parsed.render_header(&titles).unwrap(),
        "CONTAINER ID\tNAMES\tNAMES\tteam\t\tteam name x"
    );
}

#[test]
fn parse_errors_name_the_position() {
    assert_eq!(
        parse_error("{{.Names}"),
        "template: :1: unexpected \"}\" in operand"
    );
    assert_eq!(parse_error("{{.Names"), "template: :1: unclosed action");
    assert_eq!(
        parse_error("ok\n  {{nope .X}}"),
        "template: :2: function \"nope\" not defined"
    );
    assert_eq!(parse_error("{{if .X}}a"), "template: :1: unexpected EOF");
    assert_eq!(parse_error("{{end}}"), "template: :1: unexpected {{end}}");
    assert_eq!(
        parse_error("{{}}"),
        "template: :1: missing value for command"
    );
    assert_eq!(
        parse_error("{{\"abc}}"),
        "template: :1: unterminated quoted string"
    );
    assert_eq!(
        parse_error("{{break}}"),
        "template: :1: {{break}} outside {{range}}"
    );
}

#[test]
fn exec_errors_name_the_position_and_operand() {
    assert_eq!(
        exec_error("{{.Names}} {{.Foo}}"),
        "template: :1:13: executing \"\" at <.Foo>: can't evaluate field Foo in type container"
    );
    assert_eq!(
        exec_error("{{.Names.X}}"),
        "template: :1:8: executing \"\" at <.Names.X>: can't evaluate field X in type string"
    );
    assert_eq!(
        exec_error("{{index .Mounts 5}}"),
        "template: :1:2: executing \"\" at <index>: error calling index: index out of range: 5"
    );
    assert_eq!(
        exec_error("{{join .Names}}"),
        "template: :1:2: executing \"\" at <join>: wrong number of args for join: want 2 got 1"
    );
    assert_eq!(
        exec_error("{{lower .Size}}"),
        "template: :1:2: executing \"\" at <lower>: error calling lower: wrong type for value; expected string; got int"
    );
    assert_eq!(
        exec_error("{{range .Names}}x{{end}}"),
        "template: :1:8: executing \"\" at <.Names>: range can't iterate over web"
    );
    assert_eq!(
        exec_error("{{$x}}"),
        "template: :1: undefined variable \"$x\""
    );
}

#[test]
fn missing_fields_below_the_row_are_no_value() {
    let parsed = Template::parse("{{.State.Nope}}").unwrap();
    assert_eq!(
        parsed.render_row(&data(), "container").unwrap(),
        "<no value>"
    );
}

/// Docker's inspect runs its template over the raw JSON with `missingkey=error`.
#[test]
fn inspect_missing_keys_are_errors_placed_at_the_last_field() {
    let error = |template: &str| match Template::parse(template).unwrap().render(&data()) {
        Ok(out) => panic!("{template} should fail, printed {out:?}"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        error("{{.State.Runing}}"),
        "template: :1:8: executing \"\" at <.State.Runing>: map has no entry for key \"Runing\""
    );
    assert_eq!(
        error("ab\n{{.Nope}}"),
        "template: :2:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\""
    );
    // A key that is there with null still prints as Go prints nil; `index` is not a
    // field lookup and gives the zero value.
    assert_eq!(render("{{.Config.Env}}"), "<no value>");
    assert_eq!(render("{{index .Config.Labels \"missing\"}}"), "<no value>");
}

/// Inspect data runs typed: values print as Go's `%v` of Docker's structs.
#[test]
fn inspect_values_print_as_dockers_structs() {
    let data = json!({
        "Id": "abc", "State": {"Status": "running", "Running": true}, "HostConfig": {},
        "Mounts": [{"Type": "bind", "Source": "/s", "Destination": "/d", "Mode": "ro",
            "RW": false, "Propagation": "rprivate"}],
        "Config": {"Labels": {"b": "2", "a": "1"}},
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "10.0.0.2", "Aliases": ["x"]}}},
    });
    let render = |template: &str| {
        Template::parse(template)
            .unwrap()
            .render_typed(&data, &crate::ops::docker_types::CONTAINER)
            .unwrap_or_else(|e| panic!("{template}: {e}"))
    };
    assert_eq!(render("{{.Mounts}}"), "[{bind  /s /d  ro false rprivate}]");
    assert_eq!(
        render("{{range .Mounts}}{{.}}{{end}}"),
        "{bind  /s /d  ro false rprivate}"
    );
    assert_eq!(render("{{.Config.Labels}}"), "map[a:1 b:2]");
    assert_eq!(render("{{.Config.Env}}"), "[]");
    assert_eq!(render("{{.Config.StopTimeout}}"), "<nil>");
    assert_eq!(render("{{.State.Health}}"), "<nil>");
    assert_eq!(render("{{.HostConfig.RestartPolicy}}"), "{ 0}");
    assert_eq!(
        render(r#"{{index .NetworkSettings.Networks "bridge"}}"#),
        "{<nil> [] [x]  map[] 0    10.0.0.2 0   0 []}"
    );
    assert_eq!(
        render("{{json .State}}"),
        r#"{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":0,"Error":"","StartedAt":"","FinishedAt":""}"#
    );
    // Untyped data keeps Go's map printing.
    assert_eq!(
        Template::parse("{{.Mounts}}")
            .unwrap()
            .render(&data)
            .unwrap(),
        "[map[Destination:/d Mode:ro Propagation:rprivate RW:false Source:/s Type:bind]]"
    );
}
