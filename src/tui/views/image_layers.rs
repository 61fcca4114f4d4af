//! An image's layers as dive shows them: each layer with its digest, size and the step that
//! made it, the image's efficiency with its largest wasted paths under them, and the file
//! tree of the selected layer (or of the image up to it) with what that layer added,
//! changed or deleted. `tab` moves the focus between the layers and the tree; the focused
//! pane's frame is drawn bright and its title marked. Only the tree's rows on screen are
//! drawn, however many it holds.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::Frame;

use super::table::{keep_end, keep_start};
use super::{dim_note, pane};
use crate::engine::{ChangeKind, Efficiency, FileType, TreeScope, WasteKind};
use crate::format::{human_size, short_since_at};
use crate::tui::detail::ImageDetail;
use crate::tui::layers::{LayerFocus, TreeView};
use crate::tui::theme::Theme;

/// Rows of the efficiency panel at most (its frame, the figures, the wasted paths).
const EFFICIENCY_ROWS: u16 = 9;

/// The layer list's CREATED BY keeps at least this many columns before the digest shows.
const MIN_STEP: u16 = 24;

pub fn draw(frame: &mut Frame, area: Rect, image: &ImageDetail, now: DateTime<Utc>, theme: &Theme) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(area);
    let panel = EFFICIENCY_ROWS.min(left.height / 2);
    let [top, bottom] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(panel)]).areas(left);
    layers(frame, top, image, now, theme);
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

fn layers(frame: &mut Frame, area: Rect, image: &ImageDetail, now: DateTime<Utc>, theme: &Theme) {
    let focused = image.focus == LayerFocus::Layers;
    let block = focused_pane(format!(" {} · layers ", image.name), focused, theme);
    let Some(layers) = &image.layers else {
        frame.render_widget(dim_note("Reading the layers…", theme).block(block), area);
        return;
    };
    let height = area.height.saturating_sub(3) as usize;
    image.layer_rows.set(height);
    let first = image.layer.saturating_sub(height.saturating_sub(1));
    let cells: Vec<[String; 5]> = layers
        .iter()
        .map(|l| {
            let step = l
                .created_by
                .as_deref()
                .unwrap_or("")
                .trim_start_matches("/bin/sh -c ")
                .trim_start_matches("#(nop) ")
                .to_owned();
            let created = l
                .created
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| short_since_at(t.with_timezone(&Utc), now))
                .unwrap_or_default();
            [
                l.index.to_string(),
                l.diff_id.short().to_owned(),
                human_size(l.size),
                created,
                step,
            ]
        })
        .collect();
    let header = ["#", "DIGEST", "SIZE", "CREATED", "CREATED BY"];
    // Each column as wide as its widest cell; the step gets the rest. The digest, which
    // the tree's title and `docker history` give, goes first when the step would be cut
    // short, as dive's and lazydocker's lists leave it out.
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0) as u16
    };
    let inner = area.width.saturating_sub(2);
    let fixed = width(0) + width(2) + width(3) + 3;
    let digest = inner.saturating_sub(fixed + width(1) + 1) >= MIN_STEP;
    let shown: Vec<usize> = match digest {
        true => vec![0, 1, 2, 3, 4],
        false => vec![0, 2, 3, 4],
    };
    // The step's room: what the other columns and a space after each leave.
    let others: u16 = shown
        .iter()
        .filter(|&&i| i != 4)
        .map(|&i| width(i) + 1)
        .sum();
    let step_width = usize::from(inner.saturating_sub(others));
    let pick = |row: &[String; 5]| {
        let mut cells: Vec<String> = shown.iter().map(|&i| row[i].clone()).collect();
        if let Some(step) = cells.last_mut() {
            *step = keep_start(std::mem::take(step), step_width);
        }
        cells
    };
    let rows = cells
        .iter()
        .zip(layers)
        .skip(first)
        .take(height)
        .map(|(row, l)| {
            let style = match l.index == image.layer {
                true => theme.selected,
                false => Style::new(),
            };
            Row::new(pick(row)).style(style)
        });
    let header = Row::new(shown.iter().map(|&i| header[i])).style(theme.header);
    let widths: Vec<Constraint> = shown
        .iter()
        .map(|&i| match i {
            4 => Constraint::Fill(1),
            i => Constraint::Length(width(i)),
        })
        .collect();
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
    // version as `L2→L3`, "replaced" said only when it was not removed. A path cut short
    // keeps its end, which says what the file is.
    let path_width = usize::from(area.width.saturating_sub(2 + 8 + 1 + 7 + 1));
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
            Span::raw(keep_end(
                format!("{}{versions}{how}", wasted.path),
                path_width,
            )),
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

    /// At 80x24 the layer list fits its pane: the digest gives way, the age shows short
    /// ("3d ago") and the step keeps the rest.
    #[test]
    fn the_layer_list_fits_an_80x24_screen() {
        let mut app = crate::tui::update::layers_testing::layer_view();
        let id = app.image_detail().unwrap().id.clone();
        let now = app.now;
        let ago = |days: i64| Some((now - chrono::Duration::days(days)).to_rfc3339());
        let steps = [
            (21, 74_800_000, "#(nop) ADD file:6f1a2e9b in / "),
            (
                3,
                45_200_000,
                "/bin/sh -c apt-get update && apt-get install -y curl",
            ),
            (3, 12_100_000, "COPY app /usr/local/bin/app # buildkit"),
        ];
        let mut layers = crate::tui::update::layers_testing::two_layers();
        layers.push(layers[1].clone());
        for (index, (layer, (days, size, step))) in layers.iter_mut().zip(steps).enumerate() {
            layer.index = index;
            layer.created = ago(days);
            layer.size = size;
            layer.created_by = Some(step.into());
        }
        for data in [
            DetailData::Layers {
                id: id.clone(),
                layers,
            },
            DetailData::LayerTree {
                id: id.clone(),
                tree: crate::tui::layers::tests::sample(),
            },
            DetailData::Efficiency {
                id: id.clone(),
                result: Ok(Box::new(crate::tui::update::build_testing::efficiency())),
            },
        ] {
            update(&mut app, Msg::Detail(Ok(Box::new(data))));
        }
        let frame = render_text(&app, 80, 24);
        let header = frame
            .lines()
            .find(|l| l.contains("CREATED BY"))
            .unwrap_or_default();
        assert!(header.contains("CREATED "), "{frame}");
        assert!(!header.contains("DIGEST"), "{frame}");
        assert!(frame.contains("3w ago"), "{frame}");
        assert!(frame.contains("apt-get"), "{frame}");
        insta::assert_snapshot!("layers_80x24", frame);
        // Wide enough, the digest is back.
        let frame = render_text(&app, 160, 30);
        assert!(frame.contains("DIGEST"), "{frame}");
    }
}
