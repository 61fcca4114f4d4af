//! Colours, in one place so a theme file can replace them.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone)]
pub struct Theme {
    pub title: Style,
    pub header: Style,
    pub selected: Style,
    pub marked: Style,
    pub running: Style,
    pub exited: Style,
    pub created: Style,
    pub dim: Style,
    pub error: Style,
    pub info: Style,
    pub added: Style,
    pub changed: Style,
    pub deleted: Style,
    pub key: Style,
    pub border: Style,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme {
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            header: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            marked: Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            running: Style::new().fg(Color::Green),
            exited: Style::new().fg(Color::Red),
            created: Style::new().fg(Color::Blue),
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
