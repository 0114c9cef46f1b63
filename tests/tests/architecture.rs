//! The house rules of issue 17, checked on the sources: in each library
//! crate the arrows between top-level modules go one way (no import
//! cycle), and no file of the node is longer than 600 lines unless
//! docs/architecture.md names it, in its section on long files, and says why.
//!
//! A module's arrows are the `crate::NAME` paths in its files (code, not
//! comments, and not its `#[cfg(test)]` part or `tests.rs` file). Run from the tests package,
//! so the sources are at `../CRATE/src`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest file in node/src that docs/architecture.md need not argue for.
const MAX_LINES: usize = 600;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (None for lib.rs and main.rs).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_owned())
}

/// The code of a file without comments and without its tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names following `crate::`, including each of a `crate::{a, b::c}` group.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        // `signpost_crate::` and the like are other crates.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

/// Top-level module -> the top-level modules it uses.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for file in &files {
        let Some(from) = module_of(src, file) else {
            continue;
        };
        // A module's tests (`#[cfg(test)] mod tests;` in their own file)
        // may use anything.
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read a source file");
        for to in crate_paths(&code(&text)) {
            if to != from && modules.contains(&to) {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

/// A cycle of the graph, as the path that closes it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

#[test]
fn the_finder_sees_a_cycle_and_a_straight_line() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        crate_paths("use crate::{x::Y, z};\nlet q = crate::w::f(); signpost_client::v;"),
        BTreeSet::from(["x".to_owned(), "z".to_owned(), "w".to_owned()])
    );
}

#[test]
fn no_library_crate_has_an_import_cycle_between_its_modules() {
    for krate in ["spec", "client", "node"] {
        let src = Path::new("..").join(krate).join("src");
        let graph = module_graph(&src);
        assert!(graph.len() > 3, "{krate}: found only {graph:?}");
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{krate}/src has an import cycle between modules: {}",
                cycle.join(" -> ")
            );
        }
    }
}

/// The heading of docs/architecture.md's section that argues for each
/// long file by name.
const LONG_FILES_HEADING: &str = "## Files over 600 lines";

#[test]
fn long_node_files_are_argued_for_in_the_architecture_notes() {
    let notes = std::fs::read_to_string("../docs/architecture.md").expect("docs/architecture.md");
    // Only that section counts: a file named elsewhere is not argued for.
    let architecture = notes
        .split_once(LONG_FILES_HEADING)
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(""))
        .unwrap_or("");
    let src = Path::new("../node/src");
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut unargued = Vec::new();
    for file in files {
        let lines = std::fs::read_to_string(&file)
            .expect("source")
            .lines()
            .count();
        let name = file
            .strip_prefix("..")
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        if lines > MAX_LINES && !architecture.contains(&format!("`{name}`")) {
            unargued.push(format!("{name} ({lines} lines)"));
        }
    }
    assert!(
        unargued.is_empty(),
        "over {MAX_LINES} lines and not named in docs/architecture.md: {unargued:?}"
    );
}
