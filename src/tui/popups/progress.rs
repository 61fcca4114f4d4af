//! A copy under way: the entry, a bar with the share done, the bytes of the total, the
//! rate and the time left, read from the copy's shared counter each time the frame is
//! drawn; cancel stops it.

use std::time::Duration;

use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::engine::Progress;
use crate::format::human_size;
use crate::tui::action::Action;
use crate::tui::render::centered;
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

/// Width of the bar.
const BAR: usize = 30;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let Some(copying) = app.files.as_ref().and_then(|f| f.copying.as_ref()) else {
        return;
    };
    let progress = &copying.progress;
    let area = centered(frame.area(), 56, 7);
    frame.render_widget(Clear, area);
    let cancel = app
        .keymap
        .key_for(Action::CancelCopy)
        .unwrap_or_else(|| "esc".into());
    let status = if progress.is_cancelled() {
        "cancelling…".to_owned()
    } else {
        amounts(progress)
    };
    let lines = vec![
        Line::raw(format!(
            "{} ({} of {})",
            copying.entry,
            copying.index + 1,
            copying.total
        )),
        Line::styled(bar(progress), theme.running),
        Line::raw(status),
        Line::from(vec![Span::styled(cancel, theme.key), Span::raw(" cancel")]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(pane(" Copying ".into(), theme)),
        area,
    );
}

/// The share done and its percent; with no total known (a source that could not be
/// measured) a block that moves, showing the copy is alive.
fn bar(progress: &Progress) -> String {
    match progress.fraction() {
        Some(done) => {
            let full = (done * BAR as f64).floor() as usize;
            let percent = (done * 100.0).floor() as u32;
            format!(
                "{}{} {percent:>3}%",
                "█".repeat(full),
                "░".repeat(BAR - full)
            )
        }
        None => {
            let at = (progress.elapsed().as_millis() / 100) as usize % BAR;
            (0..BAR)
                .map(|i| {
                    if (i + BAR - at) % BAR < 6 {
                        '█'
                    } else {
                        '░'
                    }
                })
                .collect()
        }
    }
}

/// `180MB of 524MB  45.2MB/s  0:08 left`, or without a total `180MB  45.2MB/s`.
fn amounts(progress: &Progress) -> String {
    let moved = human_size(progress.bytes());
    let rate = human_size(progress.rate());
    match (progress.total(), progress.eta()) {
        (Some(total), Some(eta)) => format!(
            "{moved} of {}  {rate}/s  {} left",
            human_size(total),
            clock(eta)
        ),
        (Some(total), None) => format!("{moved} of {}  {rate}/s", human_size(total)),
        _ => format!("{moved}  {rate}/s"),
    }
}

/// `m:ss`, or `h:mm:ss` from an hour.
fn clock(left: Duration) -> String {
    let secs = left.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::clock;
    use crate::engine::{Counted, Progress};
    use crate::tui::effect::Target;
    use crate::tui::files::{Copying, FilesView};
    use crate::tui::keymap::Keymap;
    use crate::tui::once::render_text;
    use crate::tui::state::{App, Popup};

    #[test]
    fn the_popup_shows_the_entry_its_place_and_the_cancel_key() {
        let mut app = App::new(Keymap::default());
        let mut files = FilesView::new(Target {
            id: "1".into(),
            name: "web".into(),
        });
        let progress = Progress::new();
        files.copying = Some(Copying {
            progress: progress.clone(),
            entry: "big.bin".into(),
            index: 1,
            total: 3,
        });
        app.files = Some(files);
        app.popup = Some(Popup::Copy);
        let text = render_text(&app, 80, 20);
        assert!(text.contains("big.bin (2 of 3)"), "{text}");
        assert!(text.contains("0B  "), "{text}");
        assert!(text.contains("x cancel"), "{text}");
        // With a total: the share, the total and the time left.
        progress.set_total(1_000_000);
        let text = render_text(&app, 80, 20);
        assert!(text.contains("░░░   0%"), "{text}");
        assert!(text.contains("0B of 1MB"), "{text}");
        let half = Counted::new(&[0u8; 500_000][..], progress.clone());
        std::io::copy(&mut { half }, &mut std::io::sink()).unwrap();
        let text = render_text(&app, 80, 20);
        assert!(
            text.contains("███████████████░░░░░░░░░░░░░░░  50%"),
            "{text}"
        );
        assert!(text.contains("500kB of 1MB"), "{text}");
        assert!(text.contains(" left"), "{text}");
        progress.cancel();
        assert!(render_text(&app, 80, 20).contains("cancelling…"));
    }

    #[test]
    fn time_left_reads_as_a_clock() {
        assert_eq!(clock(Duration::from_secs(8)), "0:08");
        assert_eq!(clock(Duration::from_secs(125)), "2:05");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }
}
