//! Every ```rust block of the READMEs is code that `cargo test` compiles: the block is
//! preceded by `<!-- compiled in <file> -->` and appears verbatim in that file (leading
//! indentation aside), which is under `examples/` or a crate's `examples/`. Every ```toml
//! block parses.

use std::path::{Path, PathBuf};

const MARKER: &str = "<!-- compiled in ";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The README.md at the root and in each crate.
fn readmes() -> Vec<PathBuf> {
    let mut found = vec![root().join("README.md")];
    let crates = std::fs::read_dir(root().join("crates")).expect("crates/");
    for entry in crates {
        let readme = entry.expect("crates/ entry").path().join("README.md");
        if readme.exists() {
            found.push(readme);
        }
    }
    found.sort();
    found
}

#[derive(Debug)]
struct Block {
    lang: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// The `<!-- compiled in <file> -->` right before the fence, if any.
    compiled_in: Option<String>,
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    let mut previous = "";
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        match (&mut current, trimmed.strip_prefix("```")) {
            (None, Some(info)) => {
                let compiled_in = previous
                    .trim()
                    .strip_prefix(MARKER)
                    .and_then(|rest| rest.strip_suffix("-->"))
                    .map(|file| file.trim().to_owned());
                current = Some(Block {
                    lang: info.split([' ', ',']).next().unwrap_or("").to_owned(),
                    line: i + 1,
                    compiled_in,
                    lines: Vec::new(),
                });
            }
            (Some(_), Some("")) => out.extend(current.take()),
            (Some(block), _) => block.lines.push(line.to_owned()),
            (None, None) => {}
        }
        previous = line;
    }
    out
}

fn normalized(lines: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
    lines
        .into_iter()
        .map(|l| l.as_ref().trim().to_owned())
        .collect()
}

/// Why `block` is not verbatim in `file`: the file's closest stretch and the first line
/// that differs.
fn mismatch(block: &[String], file: &[String]) -> Option<String> {
    if block.is_empty() {
        return Some("the block is empty".to_owned());
    }
    let mut best = (0, 0); // (lines matched, start)
    for start in 0..file.len() {
        let matched = block
            .iter()
            .zip(&file[start..])
            .take_while(|(a, b)| a == b)
            .count();
        if matched == block.len() {
            return None;
        }
        if matched > best.0 {
            best = (matched, start);
        }
    }
    let (matched, start) = best;
    Some(if matched == 0 {
        format!("its first line `{}` is nowhere in the file", block[0])
    } else {
        format!(
            "from the file's line {}, the block's line {} is `{}` where the file has `{}`",
            start + 1,
            matched + 1,
            block[matched],
            file.get(start + matched)
                .map_or("(end of file)", String::as_str)
        )
    })
}

fn compiled(file: &str) -> bool {
    let parts: Vec<&str> = file.split('/').collect();
    file.ends_with(".rs")
        && (parts.first() == Some(&"examples")
            || (parts.first() == Some(&"crates") && parts.get(2) == Some(&"examples")))
}

#[test]
fn every_rust_block_of_the_readmes_is_compiled_code() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for readme in readmes() {
        let text = std::fs::read_to_string(&readme).expect("read README");
        let name = readme
            .strip_prefix(root())
            .unwrap_or(&readme)
            .display()
            .to_string();
        for block in blocks(&text).iter().filter(|b| b.lang == "rust") {
            let at = format!("{name}:{}", block.line);
            let first = block.lines.iter().find(|l| !l.trim().is_empty());
            let what = format!("the block at {at} (`{}`)", first.map_or("", |l| l.trim()));
            let Some(file) = &block.compiled_in else {
                problems.push(format!(
                    "{what} has no `{MARKER}<file> -->` line right before it: put the code in a \
                     file under examples/ and name it there"
                ));
                continue;
            };
            if !compiled(file) {
                problems.push(format!(
                    "{what} names {file}, which is not a .rs file under examples/ or crates/*/examples/"
                ));
                continue;
            }
            let Ok(source) = std::fs::read_to_string(root().join(file)) else {
                problems.push(format!("{what} names {file}, which does not exist"));
                continue;
            };
            if let Some(why) = mismatch(&normalized(&block.lines), &normalized(source.lines())) {
                problems.push(format!("{what} is not verbatim in {file}: {why}"));
            }
            checked += 1;
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(
        checked >= 6,
        "only {checked} rust blocks found: is the parsing broken?"
    );
}

#[test]
fn every_toml_block_of_the_readmes_parses() {
    for readme in readmes() {
        let text = std::fs::read_to_string(&readme).expect("read README");
        for block in blocks(&text).iter().filter(|b| b.lang == "toml") {
            if let Err(e) = block.lines.join("\n").parse::<toml::Table>() {
                panic!("the toml block at {}:{}: {e}", readme.display(), block.line);
            }
        }
    }
}

#[test]
fn the_block_parser_finds_fences_markers_and_mismatches() {
    let text =
        "intro\n<!-- compiled in examples/x.rs -->\n```rust\n    fn a() {}\n```\n```sh\nls\n```\n";
    let found = blocks(text);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].lang, "rust");
    assert_eq!(found[0].line, 3);
    assert_eq!(found[0].compiled_in.as_deref(), Some("examples/x.rs"));
    assert_eq!(found[1].compiled_in, None);
    let file = normalized(["fn a() {}", "fn b() {}"]);
    assert_eq!(mismatch(&normalized(["fn b() {}"]), &file), None);
    assert!(mismatch(&normalized(["fn a() {}", "fn c() {}"]), &file).is_some());
    assert!(compiled("crates/herald-amqp/examples/order_service.rs"));
    assert!(!compiled("crates/herald-amqp/src/lib.rs"));
}
