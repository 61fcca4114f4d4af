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
    let paths: Vec<&str> = paths.into_iter().collect();
    let shape = Shape::new(paths.iter().copied());
    (0..paths.len())
        .map(|i| shape.row(i, |j| paths[j]))
        .collect()
}

/// How a list of paths hangs together as a tree: each item's parent and whether it is its
/// parent's last child. A few bytes an item, so a view of a huge tree keeps this and draws
/// only the rows on screen (`row`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    parents: Vec<Option<u32>>,
    last: Vec<bool>,
}

impl Shape {
    /// The shape of `paths`, as [`rows`] takes them.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Shape {
        let mut parents: Vec<Option<u32>> = Vec::new();
        // The open ancestors of the next item: index and path.
        let mut stack: Vec<(u32, &str)> = Vec::new();
        for (i, path) in paths.into_iter().enumerate() {
            let path = path.trim_start_matches('/');
            while let Some(&(_, top)) = stack.last() {
                if is_under(path, top) {
                    break;
                }
                stack.pop();
            }
            parents.push(stack.last().map(|&(p, _)| p));
            stack.push((i as u32, path));
        }
        // An item is its parent's last child unless a later item has the same parent.
        let mut last = vec![true; parents.len()];
        let mut seen_parent: std::collections::HashMap<Option<u32>, usize> = Default::default();
        for (i, parent) in parents.iter().enumerate() {
            if let Some(previous) = seen_parent.insert(*parent, i) {
                last[previous] = false;
            }
        }
        Shape { parents, last }
    }

    pub fn len(&self) -> usize {
        self.parents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// The drawn row of item `i`, `path` giving any item's path.
    pub fn row<'a>(&self, i: usize, path: impl Fn(usize) -> &'a str) -> TreeRow {
        let parent = |i: usize| self.parents[i].map(|p| p as usize);
        let mut guides = Vec::new();
        let mut at = parent(i);
        while let Some(p) = at {
            guides.push(if self.last[p] { "   " } else { "│  " });
            at = parent(p);
        }
        guides.reverse();
        // The top level has no guide of its own.
        if !guides.is_empty() {
            guides.remove(0);
        }
        let own = match parent(i) {
            None => "",
            Some(_) if self.last[i] => "└─ ",
            Some(_) => "├─ ",
        };
        let this = path(i).trim_start_matches('/');
        let name = match parent(i) {
            Some(p) => this[path(p).trim_start_matches('/').len()..].trim_start_matches('/'),
            None => this,
        };
        TreeRow {
            prefix: guides.concat() + own,
            name: name.to_owned(),
            item: i,
        }
    }
}

/// Whether `path` lies below the directory `dir` (relative paths; "" is the root).
pub fn is_under(path: &str, dir: &str) -> bool {
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
