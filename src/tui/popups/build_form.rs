//! The build form: context, Dockerfile, tags, target, build args; one line per field, the
//! focused one with a cursor.

use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::{error_lines, field_lines};
use crate::tui::action::Action;
use crate::tui::build::{BuildForm, Field};
use crate::tui::keymap::Keymap;
use crate::tui::render::centered;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, form: &BuildForm, cursor: usize, keymap: &Keymap, theme: &Theme) {
    // The error wraps inside the frame: the form grows by its extra rows.
    let inner = frame.area().width.min(76).saturating_sub(2);
    let error = error_lines(&form.error, inner, theme);
    let rows = Field::ALL.len() as u16 + 5 + error.len() as u16 - 1;
    let area = centered(frame.area(), 76, rows);
    frame.render_widget(Clear, area);
    let labels = Field::ALL.map(Field::label);
    let mut lines = field_lines(&labels, &form.values, (form.focus, cursor), theme);
    lines.push(Line::styled(
        "Empty Dockerfile: <context>/Dockerfile (paths from berth's directory)",
        theme.dim,
    ));
    // The line between the fields and the keys says why the form was refused.
    lines.extend(error);
    lines.push(Line::styled(
        format!(
            "{}/{} move · {} builds · {} cancels",
            keymap.hint(Action::NextField),
            keymap.hint(Action::PrevField),
            keymap.hint(Action::Submit),
            keymap.hint(Action::Cancel)
        ),
        theme.dim,
    ));
    frame.render_widget(
        Paragraph::new(lines).block(pane(" Build an image ".into(), theme)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use crate::tui::build::BuildForm;
    use crate::tui::keymap::Keymap;
    use crate::tui::once::render_text;
    use crate::tui::state::{App, Popup};

    #[test]
    fn the_build_form_fits_80x24() {
        let mut app = App::new(Keymap::default());
        app.loaded = true;
        let mut form = BuildForm::default();
        form.values[2] = "app:1".into();
        form.focus = 2;
        form.error = Some("invalid tag \"Bad/Name\": repository name must be lowercase".into());
        app.popup = Some(Popup::BuildForm(form));
        insta::assert_snapshot!("build_form_80x24", render_text(&app, 80, 24));
    }
}
