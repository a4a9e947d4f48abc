//! Candidate voxels: STIR hyperintensity inside the atlas.
//!
//! A voxel is a candidate when it lies inside the atlas (label != 0) and its intensity exceeds
//! the cutoff `median + z * 1.4826 * MAD` of the reference (see [`crate::reference`]).
//! Non-finite intensities are never candidates.

use rayon::prelude::*;

/// Marks candidate voxels in parallel: `atlas[v] != 0 && scan[v] > cutoff`.
pub fn candidates(scan: &[f32], atlas: &[u16], cutoff: f32) -> Vec<bool> {
    assert_eq!(scan.len(), atlas.len(), "scan and atlas on the same grid");
    let mut mask = vec![false; scan.len()];
    const CHUNK: usize = 1 << 16;
    mask.par_chunks_mut(CHUNK).zip(scan.par_chunks(CHUNK).zip(atlas.par_chunks(CHUNK))).for_each(|(m, (s, a))| {
        for ((m, &s), &a) in m.iter_mut().zip(s).zip(a) {
            *m = (a != 0) & (s > cutoff);
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
        let atlas = [1, 0, 1, 1, 2];
        assert_eq!(candidates(&scan, &atlas, 4.0), vec![true, false, false, false, true]);
    }
}
