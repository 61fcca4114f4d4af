//! One file per view.

pub mod build;
pub mod chart;
pub mod container_detail;
pub mod containers;
pub mod events;
pub mod files;
pub mod image_layers;
pub mod images;
pub mod logs;
pub mod networks;
pub mod preview;
pub mod projects;
pub mod table;
pub mod volume_files;
pub mod volumes;

use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders};

use super::theme::Theme;

/// The frame around a pane, titled.
pub fn pane<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(ratatui::text::Span::styled(title, theme.title))
}

/// A dim line in place of a view's content: loading, empty, gone.
pub fn dim_note(text: &str, theme: &Theme) -> ratatui::widgets::Paragraph<'static> {
    ratatui::widgets::Paragraph::new(ratatui::text::Line::styled(text.to_owned(), theme.dim))
}

/// Rows of data that fit in `area` once the border and a header row are drawn.
pub fn body_rows(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}
