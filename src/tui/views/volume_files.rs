//! One volume: where its data lives on the host, how much it holds, and its files.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::Row;
use ratatui::Frame;

use super::files::{draw_entries, entry_size, entry_text};
use super::{dim_note, pane};
use crate::engine::DirEntry;
use crate::format::human_size;
use crate::tui::detail::VolumeDetail;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, volume: &VolumeDetail, theme: &Theme) {
    let usage = match &volume.usage {
        Some(u) => format!(
            " · {}{} in {} entries",
            if u.partial { "over " } else { "" },
            human_size(u.bytes),
            u.entries
        ),
        None => String::new(),
    };
    let title = format!(
        " volume {}:/{} · {}{usage} ",
        volume.name,
        volume.path,
        volume.mountpoint.display()
    );
    let block = pane(title, theme);
    let Some(listing) = &volume.listing else {
        frame.render_widget(dim_note("Reading the volume…", theme).block(block), area);
        return;
    };
    let row = |i: usize, entry: &DirEntry| {
        let style = if i == volume.cursor.selected {
            theme.selected
        } else {
            Style::new()
        };
        let mode = format!("{:04o}", entry.mode & 0o7777);
        Row::new([entry_text(entry), mode, entry_size(entry)]).style(style)
    };
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(8),
    ];
    let entries = &listing.entries;
    draw_entries(
        frame,
        area,
        block,
        entries,
        &volume.cursor,
        widths,
        row,
        theme,
    );
}
