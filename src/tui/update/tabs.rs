//! Straight to one tab of a container's detail (`L`: its logs): from its row, opening
//! the detail on that tab, or on an open detail, switching to it.

use super::super::detail::{ContainerDetail, ContainerTab};
use super::super::effect::Effect;
use super::super::state::{App, Detail, View};
use super::detail::show_tab;

pub(super) fn open_tab(app: &mut App, tab: ContainerTab) -> Vec<Effect> {
    if let Some(detail) = app.container_detail_mut() {
        return show_tab(detail, tab);
    }
    // Another detail on top, or another pane: no container is selected.
    if !app.details.is_empty() || app.view != View::Containers {
        return Vec::new();
    }
    let Some(container) = app.selected_container() else {
        return Vec::new();
    };
    let mut detail = ContainerDetail::new(container.id.to_string());
    let effects = show_tab(&mut detail, tab);
    app.push_detail(Detail::Container(detail));
    effects
}
