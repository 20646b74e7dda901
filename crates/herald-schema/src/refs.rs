//! `$ref` resolution: base URIs from `$id`, JSON pointers, anchors (`$anchor`, draft 6/7
//! `"$id": "#name"`, `$dynamicAnchor`) and documents supplied by the caller's resolver.

use std::collections::HashMap;
use std::rc::Rc;

use url::Url;

use crate::json::{Json, View};
use crate::load::Draft;

/// The base every relative URI resolves against when a document has no absolute `$id`: it keeps
/// relative references relative (`customer.json` stays recognisable).
const PLACEHOLDER_BASE: &str = "herald-schema:///";

pub(crate) fn placeholder_base() -> Rc<Url> {
    // Parsed once a thread: every load needs it.
    thread_local! {
        static BASE: Rc<Url> =
            Rc::new(Url::parse(PLACEHOLDER_BASE).expect("the placeholder base is a valid URL"));
    }
    BASE.with(Rc::clone)
}

/// How many joins [`join_shared`] remembers.
const JOINS_KEPT: usize = 16;

thread_local! {
    /// Recent (base, `$id`) joins, newest first: a registry checks the same schemas again and
    /// again, and parsing a URL costs more than loading the rest of a small schema.
    static JOINS: std::cell::RefCell<std::collections::VecDeque<(String, String, Rc<Url>)>> =
        const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
}

/// [`join`] for a scope's base URI (`$id`s), shared and remembered.
pub(crate) fn join_shared(base: &Url, reference: &str) -> Option<Rc<Url>> {
    JOINS.with(|joins| {
        let mut joins = joins.borrow_mut();
        if let Some((_, _, url)) = joins
            .iter()
            .find(|(b, r, _)| r == reference && b == base.as_str())
        {
            return Some(url.clone());
        }
        let url = Rc::new(join(base, reference)?);
        if joins.len() == JOINS_KEPT {
            joins.pop_back();
        }
        joins.push_front((base.as_str().to_owned(), reference.to_owned(), url.clone()));
        Some(url)
    })
}

/// `reference` made absolute against `base` (fragment kept), or `None` if it is not a URI.
pub(crate) fn join(base: &Url, reference: &str) -> Option<Url> {
    base.join(reference).ok()
}

/// The URI without its fragment, as a key.
pub(crate) fn without_fragment(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    u.to_string()
}

/// How the caller's resolver would know a URI: as written when it was relative.
pub(crate) fn display_uri(url: &Url) -> String {
    let s = without_fragment(url);
    s.strip_prefix(PLACEHOLDER_BASE)
        .map(str::to_owned)
        .unwrap_or(s)
}

/// Follows a JSON pointer fragment (`/definitions/a~1b`, percent-encoded) from `root`.
pub(crate) fn pointer<'a, J: Json>(root: &'a J, fragment: &str) -> Option<&'a J> {
    let decoded = percent_decode(fragment);
    if decoded.is_empty() {
        return Some(root);
    }
    let rest = decoded.strip_prefix('/')?;
    let mut cur = root;
    for token in rest.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        cur = match cur.view() {
            View::Obj => cur.get(&token)?,
            View::Arr(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every resource (`$id`) and anchor of a set of documents, keyed by absolute URI
/// (`https://x/y.json`, `https://x/y.json#name`). Built only when a reference needs it.
#[derive(Debug)]
pub(crate) struct IdIndex<'a, J> {
    pub resources: HashMap<String, &'a J>,
    pub anchors: HashMap<String, &'a J>,
}

impl<'a, J: Json> IdIndex<'a, J> {
    pub fn new() -> Self {
        Self {
            resources: HashMap::new(),
            anchors: HashMap::new(),
        }
    }

    /// Indexes one document whose base URI is `base`.
    pub fn add_document(&mut self, root: &'a J, base: &Url, draft: Draft) {
        self.resources.insert(without_fragment(base), root);
        self.walk(root, base, draft, 0);
    }

    fn walk(&mut self, j: &'a J, base: &Url, draft: Draft, depth: usize) {
        if depth > crate::limits::MAX_SCHEMA_DEPTH * 2 {
            return;
        }
        match j.view() {
            View::Arr(items) => {
                for item in items {
                    self.walk(item, base, draft, depth + 1);
                }
            }
            View::Obj => {
                let mut here = base.clone();
                if let Some(id) = draft.id_of(j) {
                    if let Some(frag) = id.strip_prefix('#') {
                        // Draft 6/7 plain-name fragment identifier.
                        self.anchors
                            .insert(format!("{}#{frag}", without_fragment(base)), j);
                    } else if let Some(abs) = join(base, id) {
                        self.resources.insert(without_fragment(&abs), j);
                        if let Some(frag) = abs.fragment().filter(|f| !f.is_empty()) {
                            self.anchors
                                .insert(format!("{}#{frag}", without_fragment(&abs)), j);
                        }
                        here = abs;
                    }
                }
                for key in ["$anchor", "$dynamicAnchor", "$recursiveAnchor"] {
                    if let Some(name) = j.get(key).and_then(Json::as_str) {
                        self.anchors
                            .insert(format!("{}#{name}", without_fragment(&here)), j);
                    }
                }
                for (k, v) in j.entries() {
                    // Values of these keywords are data, not schemas.
                    if matches!(k, "enum" | "const" | "default" | "examples") {
                        continue;
                    }
                    self.walk(v, &here, draft, depth + 1);
                }
            }
            _ => {}
        }
    }
}
