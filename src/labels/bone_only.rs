//! The bone-only rule: labels that are not bone are made background before anything reads
//! the atlas, and the report lists what was analysed and what was ignored.

use super::{BoneClass, LabelTable};
use crate::error::{Error, Result};
use crate::volume::Label;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// A label present in the atlas (with voxels on the scan's grid), as `report.json` lists it
/// in `input.labels_analysed` / `input.labels_ignored`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AtlasLabel {
    /// Label value in the atlas file.
    pub label: u32,
    /// Name from the label table.
    pub name: String,
    /// Bone class (the table's `bone_class` column, else from the name); `other` is not bone.
    pub bone_class: BoneClass,
    /// Voxels of the label on the scan's grid.
    pub voxels: u64,
}

/// The atlas's labels sorted by the bone-only rule ([`keep_bone_only`]), each list in label
/// order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoneOnly {
    /// Bone labels: searched for lesions and used for the reference statistics.
    pub analysed: Vec<AtlasLabel>,
    /// Labels of bone class `other` (organs, muscles, vessels, discs, spinal cord,
    /// cartilage): made background.
    pub ignored: Vec<AtlasLabel>,
}

impl BoneOnly {
    /// Voxels of every label listed, bone or not.
    pub fn labelled_voxels(&self) -> u64 {
        self.analysed.iter().chain(&self.ignored).map(|l| l.voxels).sum()
    }

    /// Checks that some label is bone; an atlas with no voxel at all passes (the reference
    /// statistics say so later).
    ///
    /// # Errors
    /// [`Error::Atlas`] naming `atlas` when every label present is not bone.
    pub fn require_bone(&self, atlas: &Path) -> Result<()> {
        if !self.analysed.is_empty() || self.ignored.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = self.ignored.iter().take(6).map(|l| l.name.as_str()).collect();
        let more = match self.ignored.len() - shown.len() {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        Err(Error::Atlas {
            path: atlas.to_path_buf(),
            message: format!(
                "no label of the atlas is bone, so there is nowhere to look for lesions: its {} label(s) ({}{more}) \
                 are all of bone class 'other' (crmo-map searches bone only; a --labels table with a bone_class \
                 column says which labels are bone)",
                self.ignored.len(),
                shown.join(", ")
            ),
        })
    }
}

/// The bone-only rule, in place: every voxel of a label that `table` says is not bone (bone
/// class `other`) becomes background (0), so that it is never searched for lesions and never
/// enters a reference statistic. Label values the table lacks are left as they are (the label
/// check reports them). Returns the labels present by the rule, and every label value's voxel
/// count before masking (index = label; 0 the background). One parallel pass; no copy of the
/// atlas.
pub fn keep_bone_only<L: Label>(atlas: &mut [L], table: &LabelTable) -> (BoneOnly, Vec<u64>) {
    let n = L::MAX as usize + 1;
    let mut keep = vec![true; n];
    for (l, _) in table.iter().filter(|&(l, _)| l <= L::MAX) {
        keep[l as usize] = !matches!(table.info(l), Some(i) if i.bone_class == BoneClass::Other);
    }
    let any_dropped = keep.iter().any(|k| !k);
    const SLAB: usize = 1 << 20;
    let mut hist = atlas
        .par_chunks_mut(SLAB)
        .fold(
            || vec![0u64; n],
            |mut h, chunk| {
                // Most of an atlas is background: a branch-free test of each block first.
                for block in chunk.chunks_mut(64) {
                    if bytemuck::cast_slice::<L, u8>(block).iter().fold(0u8, |a, &x| a | x) == 0 {
                        continue;
                    }
                    for v in block.iter_mut().filter(|v| **v != L::default()) {
                        let i = v.index();
                        h[i] += 1;
                        if any_dropped && !keep[i] {
                            *v = L::default();
                        }
                    }
                }
                h
            },
        )
        .reduce(
            || vec![0u64; n],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    hist[0] = atlas.len() as u64 - hist[1..].iter().sum::<u64>();
    let mut out = BoneOnly::default();
    for (l, name) in table.iter().filter(|&(l, _)| l <= L::MAX && hist[l as usize] > 0) {
        let info = table.info(l).expect("a listed label");
        let entry =
            AtlasLabel { label: l, name: name.to_string(), bone_class: info.bone_class, voxels: hist[l as usize] };
        if keep[l as usize] {
            out.analysed.push(entry);
        } else {
            out.ignored.push(entry);
        }
    }
    (out, hist)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Non-bone labels become background in place; the lists say what was kept and dropped,
    /// in label order, with the voxel counts before masking; both label types.
    #[test]
    fn keep_bone_only_masks_soft_tissue_in_place() {
        let t = LabelTable::from_pairs([
            (1, "vertebrae"),
            (2, "stomach"),
            (3, "autochthon_left"),
            (5, "hip_left"),
            (6, "intervertebral_discs"),
            (7, "spinal_cord"),
            (9, "liver"),
        ]);
        let atlas = [0u8, 1, 2, 2, 3, 5, 5, 6, 7, 1, 0, 4];
        let mut a = atlas;
        let (b, hist) = keep_bone_only(&mut a, &t);
        // Label 4 is not in the table: left for the label check; 9 has no voxel: not listed.
        assert_eq!(a, [0u8, 1, 0, 0, 0, 5, 5, 0, 0, 1, 0, 4]);
        assert_eq!((hist[0], hist[1], hist[2], hist[4], hist[9], hist.len()), (2, 2, 2, 1, 0, 256));
        let names = |v: &[AtlasLabel]| v.iter().map(|l| (l.label, l.name.clone(), l.voxels)).collect::<Vec<_>>();
        assert_eq!(names(&b.analysed), vec![(1, "vertebrae".into(), 2), (5, "hip_left".into(), 2)]);
        assert_eq!(
            names(&b.ignored),
            vec![
                (2, "stomach".into(), 2),
                (3, "autochthon_left".into(), 1),
                (6, "intervertebral_discs".into(), 1),
                (7, "spinal_cord".into(), 1)
            ]
        );
        assert_eq!(b.analysed[0].bone_class, BoneClass::Vertebra);
        assert!(b.ignored.iter().all(|l| l.bone_class == BoneClass::Other));
        assert!(b.require_bone(Path::new("a.nii.gz")).is_ok());
        // u16 atlases, values beyond 255 and a large volume (several parallel slabs).
        let t16 = LabelTable::from_pairs([(300, "femur_left"), (301, "iliopsoas_left")]);
        let mut a16: Vec<u16> = (0..3_000_000).map(|i| [0, 300, 301][i % 3]).collect();
        let (b16, hist16) = keep_bone_only(&mut a16, &t16);
        assert!(a16.iter().enumerate().all(|(i, &l)| l == if i % 3 == 1 { 300 } else { 0 }));
        assert_eq!((hist16[300], hist16[301], hist16[0]), (1_000_000, 1_000_000, 1_000_000));
        assert_eq!((b16.analysed.len(), b16.ignored[0].name.as_str()), (1, "iliopsoas_left"));
        // An all-bone atlas is untouched.
        let mut bone = [0u8, 1, 5, 5];
        keep_bone_only(&mut bone, &t);
        assert_eq!(bone, [0, 1, 5, 5]);
    }

    /// A table's `bone_class` column of `other` excludes a label whose name says bone; a
    /// column saying bone keeps one whose name does not.
    #[test]
    fn table_bone_class_decides_what_is_bone() {
        let t = LabelTable::parse("index\tname\tbone_class\n1\tfemur_left\tother\n2\tsternum\t\n3\tmy_bone\tpelvis\n")
            .unwrap();
        let mut a = [1u8, 2, 3, 0];
        let (b, _) = keep_bone_only(&mut a, &t);
        assert_eq!(a, [0, 2, 3, 0]);
        assert_eq!(b.ignored.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["femur_left"]);
        assert_eq!(
            b.analysed.iter().map(|l| l.bone_class).collect::<Vec<_>>(),
            [BoneClass::Sternum, BoneClass::Pelvis]
        );
    }

    /// Every label present not bone: one error naming the atlas and some of its labels; an
    /// empty atlas is left to the reference statistics.
    #[test]
    fn an_atlas_without_bone_is_an_atlas_error() {
        let names: Vec<String> = (1..=9).map(|i| format!("organ{i}")).collect();
        let t = LabelTable::from_pairs(names.iter().enumerate().map(|(i, n)| (i as u32 + 1, n.clone())));
        let mut a: Vec<u8> = (0..=9).collect();
        let (b, _) = keep_bone_only(&mut a, &t);
        assert!(a.iter().all(|&l| l == 0));
        let e = b.require_bone(Path::new("dir/atlas.nii.gz")).unwrap_err();
        assert!(matches!(e, Error::Atlas { .. }));
        let msg = e.to_string();
        assert!(msg.starts_with("dir/atlas.nii.gz: no label of the atlas is bone"), "{msg}");
        assert!(msg.contains("9 label(s) (organ1, organ2, organ3, organ4, organ5, organ6 and 3 more)"), "{msg}");
        assert!(!msg.contains('\n'));
        let (empty, _) = keep_bone_only(&mut [0u8; 4], &t);
        assert!(empty.require_bone(Path::new("a")).is_ok());
    }
}
