//! An image's layers as dive shows them: each layer with its digest, size and the step that
//! made it, and the file tree of the selected layer (or of the image up to it) with what
//! that layer added, changed or deleted.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use super::{dim_note, pane};
use crate::engine::{ChangeKind, FileType, LayerTree, TreeScope};
use crate::format::human_size;
use crate::tui::detail::ImageDetail;
use crate::tui::theme::Theme;
use crate::tui::tree;

pub fn draw(frame: &mut Frame, area: Rect, image: &ImageDetail, theme: &Theme) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(area);
    layers(frame, left, image, theme);
    files(frame, right, image, theme);
}

fn layers(frame: &mut Frame, area: Rect, image: &ImageDetail, theme: &Theme) {
    let block = pane(format!(" {} · layers ", image.name), theme);
    let Some(layers) = &image.layers else {
        frame.render_widget(dim_note("Reading the layers…", theme).block(block), area);
        return;
    };
    let height = area.height.saturating_sub(3) as usize;
    let first = image.layer.saturating_sub(height.saturating_sub(1));
    let rows = layers.iter().skip(first).take(height).map(|l| {
        let style = if l.index == image.layer {
            theme.selected
        } else {
            Style::new()
        };
        let step = l
            .created_by
            .as_deref()
            .unwrap_or("")
            .trim_start_matches("/bin/sh -c ")
            .trim_start_matches("#(nop) ")
            .to_owned();
        Row::new([
            l.index.to_string(),
            l.diff_id.short().to_owned(),
            human_size(l.size),
            step,
        ])
        .style(style)
    });
    let header = Row::new(["#", "DIGEST", "SIZE", "CREATED BY"]).style(theme.header);
    let widths = [
        Constraint::Length(2),
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn files(frame: &mut Frame, area: Rect, image: &ImageDetail, theme: &Theme) {
    let scope = match image.scope {
        TreeScope::Layer => "this layer",
        TreeScope::Aggregated => "image so far",
    };
    let Some(tree) = &image.tree else {
        let block = pane(format!(" Files: {scope} "), theme);
        frame.render_widget(dim_note("Reading the layer…", theme).block(block), area);
        return;
    };
    let shown: Vec<usize> = (0..tree.entries.len())
        .filter(|&i| !image.changes_only || tree.entries[i].change.is_some())
        .collect();
    let title = format!(
        " Files: {scope}{} · {} ",
        if image.changes_only {
            ", changes only"
        } else {
            ""
        },
        summary(tree)
    );
    let block = pane(title, theme);
    let rows = tree::rows(shown.iter().map(|&i| tree.entries[i].path.as_str()));
    let height = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = rows
        .iter()
        .skip(image.scroll)
        .take(height)
        .map(|row| {
            let entry = &tree.entries[shown[row.item]];
            let (symbol, style) = match entry.change {
                Some(ChangeKind::Added) => ("A", theme.added),
                Some(ChangeKind::Changed) => ("C", theme.changed),
                Some(ChangeKind::Deleted) => ("D", theme.deleted),
                None => (" ", Style::new()),
            };
            let mut name = row.name.clone();
            if entry.kind == FileType::Dir {
                name.push('/');
            }
            if let Some(target) = &entry.link_target {
                name.push_str(&format!(" → {target}"));
            }
            let size = if entry.kind == FileType::File {
                human_size(entry.size)
            } else {
                String::new()
            };
            Line::from(vec![
                Span::styled(format!("{symbol} "), style),
                Span::styled(format!("{:>8} ", size), theme.dim),
                Span::styled(row.prefix.clone(), theme.border),
                Span::styled(name, style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// "12 added, 3 changed, 1 deleted (4.1MB)", and a note when the tree was cut.
fn summary(tree: &LayerTree) -> String {
    let count = |kind| {
        tree.entries
            .iter()
            .filter(|e| e.change == Some(kind))
            .count()
    };
    let bytes: u64 = tree
        .entries
        .iter()
        .filter(|e| matches!(e.change, Some(ChangeKind::Added | ChangeKind::Changed)))
        .map(|e| e.size)
        .sum();
    let cut = if tree.truncated { ", cut short" } else { "" };
    format!(
        "{} added, {} changed, {} deleted ({}){cut}",
        count(ChangeKind::Added),
        count(ChangeKind::Changed),
        count(ChangeKind::Deleted),
        human_size(bytes)
    )
}
