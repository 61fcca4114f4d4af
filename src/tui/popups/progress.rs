//! A copy under way: the entry, bytes so far and the rate, read from the copy's shared
//! counter each time the frame is drawn; cancel stops it.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::format::human_size;
use crate::tui::action::Action;
use crate::tui::render::centered;
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

/// Width of the moving bar: a copy's total is not known ahead (a container's tar stream
/// is produced as it goes), so the bar shows motion, not a fraction.
const BAR: usize = 30;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let Some(copying) = app.files.as_ref().and_then(|f| f.copying.as_ref()) else {
        return;
    };
    let progress = &copying.progress;
    let area = centered(frame.area(), 56, 7);
    frame.render_widget(Clear, area);
    let tenths = (progress.elapsed().as_millis() / 100) as usize;
    let at = tenths % BAR;
    let bar: String = (0..BAR)
        .map(|i| {
            if (i + BAR - at) % BAR < 6 {
                '█'
            } else {
                '░'
            }
        })
        .collect();
    let cancel = app
        .keymap
        .key_for(Action::CancelCopy)
        .unwrap_or_else(|| "esc".into());
    let status = if progress.is_cancelled() {
        "cancelling…".to_owned()
    } else {
        format!(
            "{}  {}/s",
            human_size(progress.bytes()),
            human_size(progress.rate())
        )
    };
    let lines = vec![
        Line::raw(format!(
            "{} ({} of {})",
            copying.entry,
            copying.index + 1,
            copying.total
        )),
        Line::styled(bar, theme.running),
        Line::raw(status),
        Line::from(vec![Span::styled(cancel, theme.key), Span::raw(" cancel")]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(pane(" Copying ".into(), theme)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use crate::engine::storage::progress::Progress;
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
        progress.cancel();
        assert!(render_text(&app, 80, 20).contains("cancelling…"));
    }
}
