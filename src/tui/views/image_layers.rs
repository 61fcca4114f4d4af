//! An image's layers as dive shows them: each layer with its digest, size and the step that
//! made it, the image's efficiency with its largest wasted paths under them, and the file
//! tree of the selected layer (or of the image up to it) with what that layer added,
//! changed or deleted. `tab` moves the focus between the layers and the tree; the focused
//! pane's frame is drawn bright and its title marked. Only the tree's rows on screen are
//! drawn, however many it holds.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::Frame;

use super::{dim_note, pane};
use crate::engine::{ChangeKind, Efficiency, FileType, TreeScope, WasteKind};
use crate::format::human_size;
use crate::tui::detail::ImageDetail;
use crate::tui::layers::{LayerFocus, TreeView};
use crate::tui::theme::Theme;

/// Rows of the efficiency panel at most (its frame, the figures, the wasted paths).
const EFFICIENCY_ROWS: u16 = 9;

pub fn draw(frame: &mut Frame, area: Rect, image: &ImageDetail, theme: &Theme) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(area);
    let panel = EFFICIENCY_ROWS.min(left.height / 2);
    let [top, bottom] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(panel)]).areas(left);
    layers(frame, top, image, theme);
    efficiency(frame, bottom, image, theme);
    files(frame, right, image, theme);
}

/// A pane's frame, bright and marked when the keys go to it.
fn focused_pane<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    if focused {
        pane(format!("▶{title}"), theme).border_style(theme.title)
    } else {
        pane(title, theme)
    }
}

fn layers(frame: &mut Frame, area: Rect, image: &ImageDetail, theme: &Theme) {
    let focused = image.focus == LayerFocus::Layers;
    let block = focused_pane(format!(" {} · layers ", image.name), focused, theme);
    let Some(layers) = &image.layers else {
        frame.render_widget(dim_note("Reading the layers…", theme).block(block), area);
        return;
    };
    let height = area.height.saturating_sub(3) as usize;
    image.layer_rows.set(height);
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
    let focused = image.focus == LayerFocus::Tree;
    let view = &image.files;
    let Some(tree) = &view.tree else {
        let block = focused_pane(format!(" Files: {scope} "), focused, theme);
        frame.render_widget(dim_note("Reading the layer…", theme).block(block), area);
        return;
    };
    let block = focused_pane(
        format!(
            " Files: {scope}{} · {} ",
            narrowed(view),
            summary(view, tree.truncated)
        ),
        focused,
        theme,
    );
    let height = area.height.saturating_sub(2) as usize;
    if view.is_empty() {
        let note = match view.search.is_empty() {
            true => "No file of the kinds shown (ctrl-a/e/r/u show them)",
            false => "No path matches the search",
        };
        frame.render_widget(dim_note(note, theme).block(block), area);
        return;
    }
    let first = view.cursor.scroll_into_view(height);
    let lines: Vec<Line> = (first..view.len().min(first + height))
        .filter_map(|r| view.drawn(r).map(|d| (r, d)))
        .map(|(r, (entry, row))| {
            let (symbol, style) = match entry.change {
                Some(ChangeKind::Added) => ("A", theme.added),
                Some(ChangeKind::Changed) => ("C", theme.changed),
                Some(ChangeKind::Deleted) => ("D", theme.deleted),
                None => (" ", Style::new()),
            };
            let mut name = row.name;
            if entry.kind == FileType::Dir {
                name.push('/');
                if view.collapsed(&entry.path) {
                    name.push_str(" ▸");
                }
            }
            if let Some(target) = &entry.link_target {
                name.push_str(&format!(" → {target}"));
            }
            let size = if entry.kind == FileType::File {
                human_size(entry.size)
            } else {
                String::new()
            };
            let line = Line::from(vec![
                Span::styled(format!("{symbol} "), style),
                Span::styled(format!("{:>8} ", size), theme.dim),
                Span::styled(row.prefix, theme.border),
                Span::styled(name, style),
            ]);
            match focused && r == view.cursor.selected {
                true => line.style(theme.selected),
                false => line,
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// ", hiding unchanged, search \"lib\"": what narrows the tree, for its title.
fn narrowed(view: &TreeView) -> String {
    let mut text = String::new();
    let hidden: Vec<&str> = view.hidden_kinds().iter().map(|k| k.word()).collect();
    if !hidden.is_empty() {
        text.push_str(&format!(", hiding {}", hidden.join("+")));
    }
    if !view.search.is_empty() {
        text.push_str(&format!(", search {:?}", view.search));
    }
    text
}

/// "12 added, 3 changed, 1 deleted (4.1MB)", and a note when the tree was cut.
fn summary(view: &TreeView, truncated: bool) -> String {
    let s = view.summary;
    let cut = if truncated { ", cut short" } else { "" };
    format!(
        "{} added, {} changed, {} deleted ({}){cut}",
        s.added,
        s.changed,
        s.removed,
        human_size(s.bytes)
    )
}

/// The image's efficiency as dive reports it, with its largest wasted paths: the bytes, the
/// path and the layers that added and hid it.
fn efficiency(frame: &mut Frame, area: Rect, image: &ImageDetail, theme: &Theme) {
    let measured = match &image.efficiency {
        Some(Ok(e)) => e,
        Some(Err(e)) => {
            let text = format!("measuring the image's efficiency: {e}");
            let block = pane(" Efficiency ".into(), theme);
            let note = Paragraph::new(Line::styled(text, theme.error));
            frame.render_widget(note.block(block), area);
            return;
        }
        None => {
            let block = pane(" Efficiency ".into(), theme);
            let note = dim_note("Measuring the image's efficiency…", theme);
            frame.render_widget(note.block(block), area);
            return;
        }
    };
    let block = pane(efficiency_title(measured), theme);
    if measured.largest.is_empty() {
        let note = dim_note("No wasted space: no layer hides a file of another.", theme);
        frame.render_widget(note.block(block), area);
        return;
    }
    // Narrow as the pane is, the path gets the room: the layers that added and hid a
    // version as `L2→L3`, "replaced" said only when it was not removed.
    let rows = measured.largest.iter().map(|wasted| {
        let how = match wasted.kind {
            WasteKind::Removed => "",
            WasteKind::Overwritten => " (replaced)",
        };
        let versions = match wasted.versions {
            0 | 1 => String::new(),
            n => format!(" ×{n}"),
        };
        Row::new(vec![
            Span::raw(human_size(wasted.bytes)),
            Span::raw(format!("L{}→L{}", wasted.added, wasted.removed)),
            Span::raw(format!("{}{versions}{how}", wasted.path)),
        ])
    });
    let header = Row::new(["WASTED", "LAYERS", "PATH"]).style(theme.header);
    let widths = [
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn efficiency_title(e: &Efficiency) -> String {
    let cut = if e.truncated { " (cut short)" } else { "" };
    format!(
        " Efficiency {:.1}% · {} wasted in {} paths{cut} ",
        e.score * 100.0,
        human_size(e.wasted_bytes),
        e.wasted_paths
    )
}

#[cfg(test)]
mod tests {
    use crate::tui::detail::DetailData;
    use crate::tui::msg::Msg;
    use crate::tui::once::render_text;
    use crate::tui::update::update;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn the_layer_view_shows_its_focus_the_folded_tree_and_the_images_efficiency() {
        let mut app = crate::tui::update::layers_testing::layer_view();
        let id = app.image_detail().unwrap().id.clone();
        let efficiency = crate::tui::update::build_testing::efficiency();
        let data = DetailData::Efficiency {
            id,
            result: Ok(Box::new(efficiency)),
        };
        update(&mut app, Msg::Detail(Ok(Box::new(data))));
        let key = |app: &mut _, code| {
            update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        };
        key(&mut app, KeyCode::Tab);
        for _ in 0..5 {
            key(&mut app, KeyCode::Down);
        }
        key(&mut app, KeyCode::Char(' '));
        let frame = render_text(&app, 100, 20);
        assert!(frame.contains("usr/ ▸"), "{frame}");
        insta::assert_snapshot!("layers_folded_100x20", frame);
    }
}
