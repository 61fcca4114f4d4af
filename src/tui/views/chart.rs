//! A labelled sparkline: bars over a drawn zero baseline, the scale's top in a gutter on
//! the left, and the current value and the maximum, with their units, in the title.
//!
//! ```text
//! ┌ CPU · now 3.20 % · max 12.50 % ┐
//! │12.50 %       ▂▃▅█▇             │
//! │      0 ──────────────          │
//! └────────────────────────────────┘
//! ```

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::pane;
use crate::tui::theme::Theme;

/// One chart: its name, the samples (oldest first), how a value reads with its unit, and
/// the colour of its bars.
pub struct Chart<'a> {
    pub title: &'a str,
    /// Extra words for the title after the name ("rx 1kB/s tx 0B/s").
    pub note: Option<String>,
    pub samples: &'a [u64],
    pub unit: &'a dyn Fn(u64) -> String,
    pub style: Style,
    /// The scale's top is at least this, so near-zero noise doesn't fill the chart.
    pub floor: u64,
}

impl Chart<'_> {
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let (shown, top, gutter) = self.window(area.width.saturating_sub(2));
        let mut title = format!(" {}", self.title);
        if let Some(note) = &self.note {
            title.push_str(&format!(" · {note}"));
        }
        match shown.last() {
            Some(now) => title.push_str(&format!(
                " · now {} · max {} ",
                (self.unit)(*now),
                (self.unit)(shown.iter().copied().max().unwrap_or(0))
            )),
            None => title.push_str(" · no sample yet "),
        }
        let block = pane(title, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 || inner.width <= gutter {
            return;
        }
        let [labels, plot] =
            Layout::horizontal([Constraint::Length(gutter), Constraint::Fill(1)]).areas(inner);
        // The bottom row is the baseline the bars stand on, labelled 0; the top label is
        // the scale's top.
        let [bars, base] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(plot);
        let label =
            |text: &str| Line::styled(format!("{text:>w$}", w = gutter as usize - 1), theme.dim);
        let mut gutter_lines = vec![Line::raw(""); usize::from(inner.height)];
        gutter_lines[0] = label(&(self.unit)(top));
        if inner.height > 1 {
            gutter_lines[usize::from(inner.height) - 1] = label("0");
        }
        frame.render_widget(Paragraph::new(gutter_lines), labels);
        let baseline = "─".repeat(usize::from(base.width).min(shown.len()));
        frame.render_widget(Paragraph::new(Line::styled(baseline, theme.border)), base);
        if bars.height > 0 {
            let sparkline = Sparkline::default().data(shown).max(top).style(self.style);
            frame.render_widget(sparkline, bars);
        }
    }

    /// The newest samples that fit in `width` beside the gutter, the scale's top (the
    /// largest of them, at least the floor) and the gutter's width (the top's label and a
    /// space).
    fn window(&self, width: u16) -> (&[u64], u64, u16) {
        // The gutter is budgeted for the top of every sample kept, so it doesn't shift
        // as old peaks scroll out.
        let all = self
            .samples
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(self.floor);
        let gutter = (self.unit)(all).chars().count() as u16 + 1;
        let fit = usize::from(width.saturating_sub(gutter));
        let shown = &self.samples[self.samples.len().saturating_sub(fit)..];
        let top = shown
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(self.floor)
            .max(1);
        (shown, top, gutter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn drawn(chart: &Chart, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| chart.draw(frame, frame.area(), &Theme::default()))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_chart_stands_on_a_zero_baseline_under_its_labelled_top() {
        let unit = |v: u64| format!("{v}B/s");
        let chart = Chart {
            title: "Net",
            note: Some("rx 4B/s".into()),
            samples: &[0, 2, 4, 8, 4],
            unit: &unit,
            style: Style::new(),
            floor: 1,
        };
        let rows = drawn(&chart, 40, 5);
        assert!(
            rows[0].contains(" Net · rx 4B/s · now 4B/s · max 8B/s "),
            "{rows:#?}"
        );
        assert!(rows[1].starts_with("│8B/s "), "{rows:#?}");
        // The tallest bar is full height at the top; zero draws nothing above the line.
        assert_eq!(rows[1].chars().nth(9), Some('█'), "{rows:#?}");
        assert!(rows[3].starts_with("│   0 ─────"), "{rows:#?}");
        assert_eq!(rows[2].chars().nth(6), Some(' '), "{rows:#?}");
        // All zero: the scale's top is the floor, not the largest sample.
        let idle = Chart {
            samples: &[0, 0, 0],
            floor: 100,
            ..chart
        };
        let rows = drawn(&idle, 40, 5);
        assert!(rows[1].starts_with("│100B/s "), "{rows:#?}");
        assert!(rows[0].contains("now 0B/s · max 0B/s"), "{rows:#?}");
    }

    /// The stats tab: the numbers, then CPU, memory, network and block I/O charts with
    /// their units, the network read from the container's side.
    #[test]
    fn the_stats_tab_charts_cpu_memory_network_and_block_io() {
        use crate::engine::ContainerStats;
        use crate::tui::keymap::Keymap;
        use crate::tui::state::{App, Detail};
        use crate::tui::update::testing::container;
        use std::time::{Duration, Instant};
        let mut app = App::new(Keymap::default());
        let web = container("web", crate::engine::Status::Running, 10);
        app.snapshot.containers.push(web.clone());
        let mut detail = crate::tui::detail::ContainerDetail::new(web.id.to_string());
        detail.tab = crate::tui::detail::ContainerTab::Stats;
        app.push_detail(Detail::Container(detail));
        let t0 = Instant::now();
        for i in 0..6u64 {
            let sample = ContainerStats {
                id: web.id.clone(),
                name: "web".into(),
                running: true,
                cpu_percent: (i * 10) as f64,
                memory_usage: (i + 1) << 20,
                memory_limit: 64 << 20,
                memory_percent: 0.0,
                net_rx: i * i * 1000,
                net_tx: i * 100,
                block_read: 0,
                block_write: i * 4096,
                pids: 2,
            };
            app.stats.update(vec![sample], t0 + Duration::from_secs(i));
        }
        let frame = crate::tui::once::render_text(&app, 80, 30);
        // The ID is random: masked, as long as it was.
        let frame = frame.replace(&web.id.as_str()[..12], "[ID]        ");
        assert!(
            frame.contains("Network rx+tx · rx 9kB/s tx 100B/s"),
            "{frame}"
        );
        assert!(frame.contains("CPU · now 50.00 % · max 50.00 %"), "{frame}");
        insta::assert_snapshot!("stats_tab_80x30", frame);
    }
}
