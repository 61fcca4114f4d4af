//! Flat, sorted paths drawn as a tree: each row's depth and the guide lines in front of its
//! name, as `tree` prints them. Shared by the diff tab and the layer view.

/// One row of a drawn tree: the guides and name to show and the index of the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub prefix: String,
    pub name: String,
    pub item: usize,
}

/// Rows for `paths` (absolute or relative, '/'-separated, parents before children, as the
/// engine returns them). A path whose parent is not in the list hangs from the nearest
/// ancestor that is, with the missing part kept in its name.
pub fn rows<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<TreeRow> {
    let paths: Vec<&str> = paths
        .into_iter()
        .map(|p| p.trim_start_matches('/'))
        .collect();
    // For each item: its parent item, if listed.
    let mut parents: Vec<Option<usize>> = Vec::with_capacity(paths.len());
    let mut stack: Vec<usize> = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        while let Some(&top) = stack.last() {
            if is_under(path, paths[top]) {
                break;
            }
            stack.pop();
        }
        parents.push(stack.last().copied());
        stack.push(i);
    }
    // Whether each item is the last child of its parent: no later sibling.
    let mut last = vec![true; paths.len()];
    let mut seen_parent: std::collections::HashMap<Option<usize>, usize> = Default::default();
    for (i, parent) in parents.iter().enumerate() {
        if let Some(previous) = seen_parent.insert(*parent, i) {
            last[previous] = false;
        }
    }
    (0..paths.len())
        .map(|i| {
            let mut guides = Vec::new();
            let mut at = parents[i];
            while let Some(p) = at {
                guides.push(if last[p] { "   " } else { "│  " });
                at = parents[p];
            }
            guides.reverse();
            // The top level has no guide of its own.
            if !guides.is_empty() {
                guides.remove(0);
            }
            let own = match parents[i] {
                None => "",
                Some(_) if last[i] => "└─ ",
                Some(_) => "├─ ",
            };
            let name = match parents[i] {
                Some(p) => paths[i][paths[p].len()..].trim_start_matches('/'),
                None => paths[i],
            };
            TreeRow {
                prefix: guides.concat() + own,
                name: name.to_owned(),
                item: i,
            }
        })
        .collect()
}

fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_paths_draw_with_guides() {
        let drawn: Vec<String> = rows(["/bin", "/bin/cat", "/bin/sh", "/etc", "/etc/x/y", "/new"])
            .into_iter()
            .map(|r| format!("{}{}", r.prefix, r.name))
            .collect();
        assert_eq!(drawn, ["bin", "├─ cat", "└─ sh", "etc", "└─ x/y", "new"],);
        let deep: Vec<String> = rows(["a", "a/b", "a/b/c", "a/d"])
            .into_iter()
            .map(|r| format!("{}{}", r.prefix, r.name))
            .collect();
        assert_eq!(deep, ["a", "├─ b", "│  └─ c", "└─ d"]);
    }
}
