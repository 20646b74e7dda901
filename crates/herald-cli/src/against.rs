//! What `herald schemas check --against` compares with: `registry:URL`, `git:REF` or
//! `dir:PATH`; and reading a schema directory as it is at a git ref, with the repository's git.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{Context, bail};

use crate::registry_conn::redact_url;
use crate::schema_dir::SchemaSet;

/// The baseline of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Against {
    /// A Confluent-compatible registry (`registry:http://host:8081`; a bare `http(s)://` URL
    /// means the same).
    Registry(String),
    /// The schema directory at a git ref (`git:origin/main`).
    Git(String),
    /// Another directory (`dir:../released/schemas`).
    Dir(PathBuf),
}

impl FromStr for Against {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(Against::Registry(s.to_owned()));
        }
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}`: expected registry:URL, git:REF or dir:PATH"))?;
        if rest.is_empty() {
            return Err(format!("`{s}`: nothing after `{kind}:`"));
        }
        match kind {
            "registry" => {
                if rest.starts_with("http://") || rest.starts_with("https://") {
                    Ok(Against::Registry(rest.to_owned()))
                } else {
                    Err(format!(
                        "`registry:{}`: the registry URL must start with http:// or https://",
                        redact_url(rest)
                    ))
                }
            }
            "git" => Ok(Against::Git(rest.to_owned())),
            "dir" => Ok(Against::Dir(PathBuf::from(rest))),
            other => Err(format!(
                "unknown source `{other}:` (expected registry:URL, git:REF or dir:PATH)"
            )),
        }
    }
}

impl fmt::Display for Against {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Against::Registry(url) => write!(f, "registry:{}", redact_url(url)),
            Against::Git(r) => write!(f, "git:{r}"),
            Against::Dir(p) => write!(f, "dir:{}", p.display()),
        }
    }
}

fn git(cwd: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(cwd)
        .args(args)
        .output()
        .context("cannot run git (is it installed and on PATH?)")
}

fn git_ok(cwd: &Path, args: &[&str], what: &str) -> anyhow::Result<String> {
    let out = git(cwd, args)?;
    if !out.status.success() {
        bail!(
            "{what}: git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim_end_matches('\n')
        .to_owned())
}

/// The schema directory `dir` as it is at git ref `rev`, read with the git of the repository
/// that holds `dir` (the working tree is not touched). A directory that did not exist at `rev`
/// is an empty set.
pub fn load_git(dir: &Path, rev: &str, display: &str) -> anyhow::Result<SchemaSet> {
    let what = format!("reading {display} at git:{rev}");
    let top = git_ok(dir, &["rev-parse", "--show-toplevel"], &what)
        .with_context(|| format!("{} is not inside a git repository", dir.display()))?;
    let prefix = git_ok(dir, &["rev-parse", "--show-prefix"], &what)?;
    let top = PathBuf::from(top);
    let commit = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    if !commit.status.success() {
        bail!(
            "git ref `{rev}` was not found in {} (in CI, fetch it first: e.g. actions/checkout with `fetch-depth: 0`, or `git fetch origin main`)",
            top.display()
        );
    }
    let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
    // `ls-tree` paths are relative to the top when run there with the prefix as pathspec.
    let mut args = vec!["ls-tree", "-r", "-z", "--full-tree", commit.as_str()];
    if !prefix.is_empty() {
        args.extend(["--", prefix.as_str()]);
    }
    let listing = git(&top, &args)?;
    if !listing.status.success() {
        bail!(
            "{what}: git ls-tree failed: {}",
            String::from_utf8_lossy(&listing.stderr).trim()
        );
    }
    let mut entries = Vec::new();
    for line in listing.stdout.split(|b| *b == 0) {
        let line = String::from_utf8_lossy(line);
        // `<mode> <type> <oid>\t<path>`
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (Some(_mode), Some(kind), Some(oid)) = (meta.next(), meta.next(), meta.next()) else {
            continue;
        };
        let Some(rel) = path.strip_prefix(prefix.as_str()) else {
            continue;
        };
        if kind != "blob" || !rel.ends_with(".json") || rel.split('/').count() != 2 {
            continue;
        }
        let blob = git(&top, &["cat-file", "blob", oid])?;
        if !blob.status.success() {
            bail!(
                "{what}: cannot read {path}: {}",
                String::from_utf8_lossy(&blob.stderr).trim()
            );
        }
        let text = String::from_utf8(blob.stdout)
            .with_context(|| format!("{path} at {rev} is not UTF-8"))?;
        entries.push((rel.to_owned(), text));
    }
    SchemaSet::from_entries(
        entries,
        display,
        &format!("git:{rev}:{}", prefix.trim_end_matches('/')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            "registry:http://h:8081".parse(),
            Ok(Against::Registry("http://h:8081".to_owned()))
        );
        assert_eq!(
            "https://h".parse(),
            Ok(Against::Registry("https://h".to_owned()))
        );
        assert_eq!(
            "git:origin/main".parse(),
            Ok(Against::Git("origin/main".to_owned()))
        );
        assert_eq!("dir:../x".parse(), Ok(Against::Dir(PathBuf::from("../x"))));
        assert!("svn:trunk".parse::<Against>().is_err());
        assert!("git:".parse::<Against>().is_err());
        assert!("registry:ftp://x".parse::<Against>().is_err());
        assert!("origin/main".parse::<Against>().is_err());
    }

    #[test]
    fn display_hides_credentials_in_urls() {
        let a: Against = "registry:https://ci:s3cret@h:8081/x"
            .parse()
            .expect("valid");
        assert_eq!(a.to_string(), "registry:https://ci:***@h:8081/x");
    }
}
