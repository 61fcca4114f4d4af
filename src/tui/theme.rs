//! Colours, in one place: the built-in themes in `themes/*.toml` (embedded in the binary),
//! a user's theme file, or none at all under `NO_COLOR`.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub title: Style,
    pub header: Style,
    pub selected: Style,
    pub marked: Style,
    pub running: Style,
    pub exited: Style,
    pub created: Style,
    /// A paused container's status.
    pub paused: Style,
    pub dim: Style,
    pub error: Style,
    pub info: Style,
    pub added: Style,
    pub changed: Style,
    pub deleted: Style,
    pub key: Style,
    pub border: Style,
}

/// The themes a config or `--theme` can name, with their files' text.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("no-color", include_str!("../../themes/no-color.toml")),
];

/// The field names a theme file may set, in the struct's order.
pub const FIELDS: &[&str] = &[
    "title", "header", "selected", "marked", "running", "exited", "created", "paused", "dim",
    "error", "info", "added", "changed", "deleted", "key", "border",
];

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// One field of a theme file: `{ fg = "black", bg = "cyan", modifiers = ["bold"] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

impl StyleSpec {
    fn style(&self) -> Result<Style, String> {
        let mut style = Style::new();
        if let Some(fg) = &self.fg {
            style = style.fg(colour(fg)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(colour(bg)?);
        }
        for name in &self.modifiers {
            let modifier = MODIFIERS
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, m)| *m)
                .ok_or_else(|| {
                    let names: Vec<_> = MODIFIERS.iter().map(|(n, _)| *n).collect();
                    format!("unknown modifier {name:?}: use {}", names.join(", "))
                })?;
            style = style.add_modifier(modifier);
        }
        Ok(style)
    }
}

fn colour(text: &str) -> Result<Color, String> {
    text.parse().map_err(|_| {
        format!("unknown colour {text:?}: use a name such as red or lightblue, 0..255, or #rrggbb")
    })
}

impl Default for Theme {
    /// Today's colours, for a dark background; `themes/dark.toml` says the same.
    fn default() -> Theme {
        Theme {
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            header: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            marked: Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            running: Style::new().fg(Color::Green),
            exited: Style::new().fg(Color::Red),
            // Light blue: the dark blue of most palettes is too dark on black (and on
            // the reversed selection, whose text is the terminal's black).
            created: Style::new().fg(Color::LightBlue),
            paused: Style::new().fg(Color::Yellow),
            dim: Style::new().fg(Color::DarkGray),
            error: Style::new().fg(Color::White).bg(Color::Red),
            info: Style::new().fg(Color::Black).bg(Color::Cyan),
            added: Style::new().fg(Color::Green),
            changed: Style::new().fg(Color::Yellow),
            deleted: Style::new().fg(Color::Red),
            key: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            border: Style::new().fg(Color::DarkGray),
        }
    }
}

impl Theme {
    /// A theme file's text on top of the default theme; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Theme, String> {
        let table: BTreeMap<String, toml::Value> =
            toml::from_str(text).map_err(|e| format!("theme {origin}: {}", e.message().trim()))?;
        let mut theme = Theme::default();
        for (name, value) in table {
            let slot = theme.field_mut(&name).ok_or_else(|| {
                format!(
                    "theme {origin}: unknown field {name:?}: use {}",
                    FIELDS.join(", ")
                )
            })?;
            let spec = StyleSpec::deserialize(value)
                .map_err(|e| format!("theme {origin}: field {name:?}: {}", e.message().trim()))?;
            *slot = spec
                .style()
                .map_err(|e| format!("theme {origin}: field {name:?}: {e}"))?;
        }
        Ok(theme)
    }

    /// A built-in theme by name.
    pub fn built_in(name: &str) -> Option<Theme> {
        let (name, text) = BUILT_IN.iter().find(|(n, _)| *n == name)?;
        // The built-in files are checked by the tests; the default stands in regardless.
        Some(Theme::parse(text, name).unwrap_or_default())
    }

    /// No colours at all, only modifiers: for `NO_COLOR`.
    pub fn no_color() -> Theme {
        Theme::built_in("no-color").unwrap_or_default()
    }

    /// A built-in theme's name, or a path to a theme file (anything with a `/` or ending
    /// in `.toml`).
    pub fn load(choice: &str) -> Result<Theme, String> {
        if choice.contains('/') || choice.ends_with(".toml") {
            let path = Path::new(choice);
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("theme {}: {e}", path.display()))?;
            return Theme::parse(&text, &path.display().to_string());
        }
        Theme::built_in(choice).ok_or_else(|| {
            let names: Vec<_> = BUILT_IN.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown theme {choice:?}: use {} or a path to a .toml file",
                names.join(", ")
            )
        })
    }

    fn field_mut(&mut self, name: &str) -> Option<&mut Style> {
        Some(match name {
            "title" => &mut self.title,
            "header" => &mut self.header,
            "selected" => &mut self.selected,
            "marked" => &mut self.marked,
            "running" => &mut self.running,
            "exited" => &mut self.exited,
            "created" => &mut self.created,
            "paused" => &mut self.paused,
            "dim" => &mut self.dim,
            "error" => &mut self.error,
            "info" => &mut self.info,
            "added" => &mut self.added,
            "changed" => &mut self.changed,
            "deleted" => &mut self.deleted,
            "key" => &mut self.key,
            "border" => &mut self.border,
            _ => return None,
        })
    }

    #[cfg(test)]
    fn styles(&self) -> Vec<Style> {
        let mut copy = self.clone();
        FIELDS
            .iter()
            .filter_map(|f| copy.field_mut(f).map(|s| *s))
            .collect()
    }
}

/// True when `NO_COLOR` asks for no colours: set and not empty (<https://no-color.org>).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses_and_sets_every_field() {
        for (name, text) in BUILT_IN {
            Theme::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            let table: BTreeMap<String, toml::Value> = toml::from_str(text).unwrap();
            let keys: Vec<&str> = table.keys().map(String::as_str).collect();
            let mut fields = FIELDS.to_vec();
            fields.sort_unstable();
            assert_eq!(keys, fields, "theme {name}");
        }
        assert_eq!(FIELDS.len(), Theme::default().styles().len());
    }

    #[test]
    fn dark_is_the_default() {
        assert_eq!(Theme::built_in("dark"), Some(Theme::default()));
        assert_ne!(Theme::built_in("light"), Some(Theme::default()));
    }

    #[test]
    fn no_color_has_no_colour_and_a_visible_selection() {
        let theme = Theme::no_color();
        for (field, style) in FIELDS.iter().zip(theme.styles()) {
            assert_eq!((style.fg, style.bg), (None, None), "field {field}");
        }
        assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn light_has_no_yellow_or_cyan_text() {
        let theme = Theme::built_in("light").unwrap();
        for (field, style) in FIELDS.iter().zip(theme.styles()) {
            let faint = [
                Color::Yellow,
                Color::LightYellow,
                Color::Cyan,
                Color::LightCyan,
            ];
            assert!(
                !style.fg.is_some_and(|c| faint.contains(&c)) || style.bg.is_some(),
                "field {field}"
            );
        }
    }

    /// A colour as xterm's default palette draws it; `reset` is the terminal's own.
    fn rgb(colour: Option<Color>, terminal: (u8, u8, u8)) -> (u8, u8, u8) {
        const BASE: [(u8, u8, u8); 16] = [
            (0, 0, 0),
            (205, 0, 0),
            (0, 205, 0),
            (205, 205, 0),
            (0, 0, 238),
            (205, 0, 205),
            (0, 205, 205),
            (229, 229, 229),
            (127, 127, 127),
            (255, 0, 0),
            (0, 255, 0),
            (255, 255, 0),
            (92, 92, 255),
            (255, 0, 255),
            (0, 255, 255),
            (255, 255, 255),
        ];
        let index = match colour {
            None | Some(Color::Reset) => return terminal,
            Some(Color::Rgb(r, g, b)) => return (r, g, b),
            Some(Color::Black) => 0,
            Some(Color::Red) => 1,
            Some(Color::Green) => 2,
            Some(Color::Yellow) => 3,
            Some(Color::Blue) => 4,
            Some(Color::Magenta) => 5,
            Some(Color::Cyan) => 6,
            Some(Color::Gray) => 7,
            Some(Color::DarkGray) => 8,
            Some(Color::LightRed) => 9,
            Some(Color::LightGreen) => 10,
            Some(Color::LightYellow) => 11,
            Some(Color::LightBlue) => 12,
            Some(Color::LightMagenta) => 13,
            Some(Color::LightCyan) => 14,
            Some(Color::White) => 15,
            Some(Color::Indexed(i)) => i,
        };
        match index {
            0..=15 => BASE[usize::from(index)],
            // The 6x6x6 cube, then 24 greys.
            16..=231 => {
                let level = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
                let n = index - 16;
                (level(n / 36), level(n / 6 % 6), level(n % 6))
            }
            _ => {
                let grey = 8 + 10 * (index - 232);
                (grey, grey, grey)
            }
        }
    }

    /// WCAG 2's contrast ratio of two colours (1 to 21).
    fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
        let luminance = |(r, g, b): (u8, u8, u8)| {
            let channel = |c: u8| {
                let c = f64::from(c) / 255.0;
                if c <= 0.03928 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
        };
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// The text and background colours of a cell drawn with `style` over a terminal of
    /// `fg` on `bg`: unset colours are the terminal's, `reversed` swaps the two.
    fn drawn(style: Style, fg: (u8, u8, u8), bg: (u8, u8, u8)) -> ((u8, u8, u8), (u8, u8, u8)) {
        let text = rgb(style.fg, fg);
        let back = rgb(style.bg, bg);
        if style.add_modifier.contains(Modifier::REVERSED) {
            (back, text)
        } else {
            (text, back)
        }
    }

    #[test]
    fn the_xterm_palette_is_read_right() {
        assert_eq!(rgb(Some(Color::Indexed(153)), (0, 0, 0)), (175, 215, 255));
        assert_eq!(rgb(Some(Color::Indexed(16)), (9, 9, 9)), (0, 0, 0));
        assert_eq!(rgb(Some(Color::Indexed(240)), (0, 0, 0)), (88, 88, 88));
        assert_eq!(rgb(None, (1, 2, 3)), (1, 2, 3));
        assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert!((contrast((9, 9, 9), (9, 9, 9)) - 1.0).abs() < 1e-9);
    }

    /// Every status a row can show stays readable on the selected row, and off it:
    /// WCAG's 3:1 for large or bold text at least (the light theme's "Created" was blue
    /// on blue).
    #[test]
    fn every_status_colour_is_readable_on_the_selection() {
        const BLACK: (u8, u8, u8) = (0, 0, 0);
        const WHITE: (u8, u8, u8) = (255, 255, 255);
        // The terminal each theme is made for: text on background.
        let terminals = [
            ("dark", (229, 229, 229), BLACK),
            ("high-contrast", WHITE, BLACK),
            ("no-color", (229, 229, 229), BLACK),
            ("light", BLACK, WHITE),
        ];
        assert_eq!(terminals.len(), BUILT_IN.len());
        for (name, fg, bg) in terminals {
            let theme = Theme::built_in(name).unwrap();
            let statuses = [
                ("running", theme.running),
                ("exited", theme.exited),
                ("created", theme.created),
                ("paused", theme.paused),
                // Exited (0) and the other quiet cells.
                ("dim", theme.dim),
            ];
            for (status, style) in statuses {
                for (place, row) in [("selected", theme.selected), ("plain", Style::new())] {
                    // As the table draws a cell: the row's style, the cell's on top.
                    let (text, back) = drawn(row.patch(style), fg, bg);
                    let ratio = contrast(text, back);
                    assert!(
                        ratio >= 3.0,
                        "theme {name}: {status} on a {place} row: {text:?} on {back:?} is {ratio:.2}:1"
                    );
                }
            }
        }
    }

    #[test]
    fn a_bad_theme_names_the_file_and_the_field() {
        let err = Theme::parse("title = { fg = \"plaid\" }", "mine.toml").unwrap_err();
        assert!(err.starts_with("theme mine.toml: field \"title\""), "{err}");
        assert!(err.contains("plaid"), "{err}");
        let err = Theme::parse("header = { modifiers = [\"loud\"] }", "m").unwrap_err();
        assert!(
            err.contains("field \"header\"") && err.contains("loud"),
            "{err}"
        );
        let err = Theme::parse("header = { colour = \"red\" }", "m").unwrap_err();
        assert!(
            err.contains("field \"header\"") && err.contains("colour"),
            "{err}"
        );
        let err = Theme::parse("titel = {}", "m").unwrap_err();
        assert!(err.contains("unknown field \"titel\""), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn a_partial_file_keeps_the_default_for_the_rest() {
        let theme = Theme::parse("title = { fg = \"#102030\" }", "m").unwrap();
        assert_eq!(theme.title, Style::new().fg(Color::Rgb(0x10, 0x20, 0x30)));
        assert_eq!(theme.header, Theme::default().header);
    }

    #[test]
    fn names_and_files_are_chosen_and_unknown_names_listed() {
        assert_eq!(Theme::load("light").ok(), Theme::built_in("light"));
        let err = Theme::load("solarized").unwrap_err();
        assert!(
            err.contains("dark, light, high-contrast, no-color"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "border = { fg = \"red\" }").unwrap();
        let theme = Theme::load(path.to_str().unwrap()).unwrap();
        assert_eq!(theme.border, Style::new().fg(Color::Red));
        let err = Theme::load("/nonexistent/t.toml").unwrap_err();
        assert!(err.starts_with("theme /nonexistent/t.toml: "), "{err}");
    }
}
