//! The global detector (the naive baseline): STIR hyperintensity inside the atlas.
//!
//! A voxel is a candidate when it lies inside the atlas (label != 0) and its intensity exceeds
//! the cutoff `median + z * 1.4826 * MAD` of the reference (see [`crate::reference`]).
//! Non-finite intensities are never candidates.

use crate::ccl::{self, Components, Connectivity};
use crate::volume::Label;
use rayon::prelude::*;

/// The connected components of the candidate voxels, thresholded row by row inside the
/// labelling (no mask in memory). `dims` is the grid shape of `scan` and `atlas`.
pub fn components<L: Label>(
    scan: &[f32],
    atlas: &[L],
    dims: [usize; 3],
    cutoff: f32,
    conn: Connectivity,
) -> Components {
    assert_eq!(scan.len(), atlas.len(), "scan and atlas on the same grid");
    let nx = dims[0];
    ccl::label_rows(dims, conn, |row, runs| {
        let (s, a) = (&scan[row * nx..(row + 1) * nx], &atlas[row * nx..(row + 1) * nx]);
        ccl::push_runs(0, nx, |i| a[i] != L::default() && s[i] > cutoff, runs)
    })
}

/// Marks candidate voxels in parallel: `atlas[v] != 0 && scan[v] > cutoff`.
pub fn candidates<L: Label>(scan: &[f32], atlas: &[L], cutoff: f32) -> Vec<bool> {
    assert_eq!(scan.len(), atlas.len(), "scan and atlas on the same grid");
    let mut mask = vec![false; scan.len()];
    const CHUNK: usize = 1 << 16;
    mask.par_chunks_mut(CHUNK).zip(scan.par_chunks(CHUNK).zip(atlas.par_chunks(CHUNK))).for_each(|(m, (s, a))| {
        for ((m, &s), &a) in m.iter_mut().zip(s).zip(a) {
            *m = (a != L::default()) & (s > cutoff);
        }
    });
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_atlas_and_above_cutoff_only() {
        let scan = [5.0, 5.0, 1.0, f32::NAN, 9.0];
        let atlas = [1u16, 0, 1, 1, 2];
        assert_eq!(candidates(&scan, &atlas, 4.0), vec![true, false, false, false, true]);
    }

    #[test]
    fn components_match_labelling_the_candidate_mask() {
        let dims = [7, 5, 6];
        let n = dims.iter().product::<usize>();
        let scan: Vec<f32> = (0..n).map(|v| ((v * 37) % 11) as f32).collect();
        let atlas: Vec<u16> = (0..n).map(|v| ((v * 13) % 5 != 0) as u16).collect();
        for conn in [Connectivity::Faces6, Connectivity::Edges18, Connectivity::Corners26] {
            let mask = candidates(&scan, &atlas, 5.5);
            assert!(mask.iter().any(|&m| m));
            assert_eq!(components(&scan, &atlas, dims, 5.5, conn), ccl::label(&mask, dims, conn));
        }
    }
}
