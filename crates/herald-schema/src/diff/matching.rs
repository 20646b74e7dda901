//! Maximum-cardinality bipartite matching (Kuhn's augmenting paths): pairs old and new branches
//! of a combinator so that as many as possible are compatible one-to-one.

/// `edges[l]` lists the right vertices left vertex `l` may match, in order of preference.
/// Returns, for each left vertex, the index into `edges[l]` of its match.
pub(crate) fn maximum_matching(edges: &[Vec<usize>], right: usize) -> Vec<Option<usize>> {
    let mut right_match: Vec<Option<usize>> = vec![None; right];
    for l in 0..edges.len() {
        let mut seen = vec![false; right];
        augment(l, edges, &mut right_match, &mut seen);
    }
    let mut left_match = vec![None; edges.len()];
    for (r, l) in right_match.iter().enumerate() {
        if let Some(l) = *l {
            left_match[l] = edges[l].iter().position(|&x| x == r);
        }
    }
    left_match
}

fn augment(
    l: usize,
    edges: &[Vec<usize>],
    right_match: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &r in &edges[l] {
        if seen[r] {
            continue;
        }
        seen[r] = true;
        let free = match right_match[r] {
            None => true,
            Some(other) => augment(other, edges, right_match, seen),
        };
        if free {
            right_match[r] = Some(l);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::maximum_matching;

    #[test]
    fn finds_the_augmenting_path() {
        // Greedy would give left 0 right 0 and leave left 1 unmatched.
        let m = maximum_matching(&[vec![0, 1], vec![0]], 2);
        assert_eq!(m, vec![Some(1), Some(0)]);
    }

    #[test]
    fn unmatched_when_no_edge() {
        let m = maximum_matching(&[vec![], vec![0]], 1);
        assert_eq!(m, vec![None, Some(0)]);
    }
}
