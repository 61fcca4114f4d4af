//! The networks pane. Containers have loopback only until bridge networking lands
//! (issue 13); the pane says so rather than showing an empty list.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::pane;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme) {
    let lines = vec![
        Line::raw("Networking has not landed yet: every container has its own network namespace with loopback only."),
        Line::styled(
            "Bridges, veth pairs, addresses and live rx/tx rates appear here once berth builds bridge networks.",
            theme.dim,
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(pane(" Networks ".into(), theme)),
        area,
    );
}
