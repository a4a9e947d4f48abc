//! Table formats: reading every format users already have (told apart by their content)
//! and writing each of them.

use super::{BoneClass, Entry, LabelTable, Side};
use crate::palette::{self, Rgb};
use std::collections::BTreeMap;

/// The table formats written by [`LabelTable::to_format`] (all of them are read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// BIDS `_dseg.tsv` with `bone_class` and `side` columns.
    Tsv,
    /// CSV with `index,name,bone_class,side`.
    Csv,
    /// JSON `{"1": {"name": ..., "bone_class": ..., "side": ...}}`.
    Json,
    /// ITK-SNAP label description file.
    ItkSnap,
    /// 3D Slicer colour table (`.ctbl` / `.txt`).
    SlicerCtbl,
    /// 3D Slicer colour table CSV (`LabelValue,Name,Color_R,...`).
    SlicerCsv,
    /// FSLeyes lookup table (`.lut`: `index r g b name` lines, r, g, b in 0-1).
    FslLut,
}

impl TableFormat {
    /// Every format.
    pub const ALL: [TableFormat; 7] = [
        TableFormat::Tsv,
        TableFormat::Csv,
        TableFormat::Json,
        TableFormat::ItkSnap,
        TableFormat::SlicerCtbl,
        TableFormat::SlicerCsv,
        TableFormat::FslLut,
    ];

    /// The usual file name ending.
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Tsv => "tsv",
            TableFormat::Csv => "csv",
            TableFormat::Json => "json",
            TableFormat::ItkSnap => "label.txt",
            TableFormat::SlicerCtbl => "ctbl",
            TableFormat::SlicerCsv => "slicer.csv",
            TableFormat::FslLut => "lut",
        }
    }
}

impl LabelTable {
    /// Parses a table in any of the formats, told by the content.
    ///
    /// # Errors
    /// A message saying what is wrong and where.
    pub fn parse(text: &str) -> std::result::Result<LabelTable, String> {
        let text = text.trim_start_matches('\u{feff}');
        if text.trim_start().starts_with('{') {
            return Self::parse_json(text);
        }
        let (_, first) = data_lines(text).next().ok_or("empty label table")?;
        if first.contains('\t') {
            Self::parse_delimited(text, '\t')
        } else if first.contains(',') {
            Self::parse_delimited(text, ',')
        } else if first.ends_with('"') {
            Self::parse_itksnap(text)
        } else {
            Self::parse_ctbl(text)
        }
    }

    fn insert(&mut self, idx: u32, entry: Entry, line: usize) -> std::result::Result<(), String> {
        if entry.name.is_empty() {
            return Err(format!("line {line}: label {idx} has an empty name"));
        }
        if idx != 0 && self.entries.insert(idx, entry).is_some() {
            return Err(format!("line {line}: label {idx} is listed twice"));
        }
        Ok(())
    }

    fn parse_json(text: &str) -> std::result::Result<LabelTable, String> {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON label table ({e})"))?;
        let mut t = LabelTable::default();
        for (k, v) in map {
            let idx: u32 = k.trim().parse().map_err(|_| format!("label key {k:?} is not a non-negative integer"))?;
            let field = |f: &str| v.get(f).and_then(|x| x.as_str()).map(str::trim);
            let name = match v.as_str() {
                Some(n) => n.trim(),
                None => field("name").ok_or_else(|| format!("label {k}: neither a name nor an object with one"))?,
            };
            let entry = Entry {
                name: name.to_string(),
                bone_class: parse_opt(field("bone_class"), BoneClass::parse, "bone class")
                    .map_err(|e| format!("label {k}: {e}"))?,
                side: parse_opt(field("side"), Side::parse, "side").map_err(|e| format!("label {k}: {e}"))?,
            };
            if entry.name.is_empty() {
                return Err(format!("label {k} has an empty name"));
            }
            if idx != 0 {
                t.entries.insert(idx, entry);
            }
        }
        Ok(t)
    }

    /// TSV or CSV with a header: `index` (or Slicer's `LabelValue`) and `name`, optional
    /// `bone_class` and `side`.
    fn parse_delimited(text: &str, sep: char) -> std::result::Result<LabelTable, String> {
        let mut lines = data_lines(text);
        let (_, header) = lines.next().ok_or("empty label table")?;
        let cols: Vec<String> = split_fields(header, sep);
        let find = |want: &[&str]| cols.iter().position(|c| want.iter().any(|w| c.eq_ignore_ascii_case(w)));
        let (ci, cn) = match (find(&["index", "labelvalue", "label_value", "value"]), find(&["name", "label_name"])) {
            (Some(i), Some(n)) => (i, n),
            _ => {
                return Err(format!(
                    "the header must have 'index' (or 'LabelValue') and 'name' columns, found {cols:?}"
                ))
            }
        };
        let (cb, cs) = (find(&["bone_class"]), find(&["side"]));
        let mut t = LabelTable::default();
        for (line_no, line) in lines {
            let f = split_fields(line, sep);
            let (Some(idx), Some(name)) = (f.get(ci), f.get(cn)) else {
                return Err(format!("line {line_no}: fewer columns than the header"));
            };
            let idx: u32 =
                idx.parse().map_err(|_| format!("line {line_no}: index {idx:?} is not a non-negative integer"))?;
            let opt = |c: Option<usize>| {
                c.and_then(|c| f.get(c)).map(String::as_str).filter(|v| !v.is_empty() && *v != "n/a")
            };
            let entry = Entry {
                name: name.clone(),
                bone_class: parse_opt(opt(cb), BoneClass::parse, "bone class")
                    .map_err(|e| format!("line {line_no}: {e}"))?,
                side: parse_opt(opt(cs), Side::parse, "side").map_err(|e| format!("line {line_no}: {e}"))?,
            };
            t.insert(idx, entry, line_no)?;
        }
        Ok(t)
    }

    /// ITK-SNAP: `IDX R G B A VIS MSH "LABEL"` per line, `#` comments.
    fn parse_itksnap(text: &str) -> std::result::Result<LabelTable, String> {
        let mut t = LabelTable::default();
        for (line_no, line) in data_lines(text) {
            let (fields, name) = match (line.find('"'), line.rfind('"')) {
                (Some(a), Some(b)) if b > a => (&line[..a], &line[a + 1..b]),
                _ => return Err(format!("line {line_no}: not an ITK-SNAP label line (no quoted label name)")),
            };
            let nums: Vec<&str> = fields.split_whitespace().collect();
            if nums.len() != 7 {
                return Err(format!(
                    "line {line_no}: an ITK-SNAP label line has 7 numbers before the name, found {}",
                    nums.len()
                ));
            }
            let idx: u32 = nums[0]
                .parse()
                .map_err(|_| format!("line {line_no}: index {:?} is not a non-negative integer", nums[0]))?;
            t.insert(idx, Entry { name: name.trim().to_string(), bone_class: None, side: None }, line_no)?;
        }
        Ok(t)
    }

    /// 3D Slicer colour table (`index name R G B A` per line) or FSLeyes lookup table
    /// (`index r g b name`, the name the rest of the line), told apart line by line by
    /// whether the second field is a number; `#` comments.
    fn parse_ctbl(text: &str) -> std::result::Result<LabelTable, String> {
        let mut t = LabelTable::default();
        for (line_no, line) in data_lines(text) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 2 {
                return Err(format!("line {line_no}: a colour table line is 'index name R G B A'"));
            }
            let idx: u32 =
                f[0].parse().map_err(|_| format!("line {line_no}: index {:?} is not a non-negative integer", f[0]))?;
            let name = match f[1].parse::<f64>() {
                Ok(_) if f.len() >= 5 => f[4..].join(" "),
                Ok(_) => return Err(format!("line {line_no}: a lookup table line is 'index r g b name'")),
                Err(_) => f[1].to_string(),
            };
            t.insert(idx, Entry { name, bone_class: None, side: None }, line_no)?;
        }
        Ok(t)
    }

    /// Label names from the XML that TotalSegmentator's `--ml` output stores in the atlas's
    /// NIfTI header extension (`<Label Key="N" ...><![CDATA[name]]></Label>`, as CIFTI/Caret
    /// label tables are written). `None` when the text holds no such label.
    pub fn from_caret_xml(xml: &str) -> Option<LabelTable> {
        let mut t = LabelTable::default();
        let mut rest = xml;
        // `<Label ` with its attributes (not `<LabelTable>`).
        while let Some(at) = rest.find("<Label ") {
            rest = &rest[at + 7..];
            let end = rest.find("</Label>")?;
            let (tag, body) = rest[..end].split_once('>')?;
            let key = tag.split("Key=\"").nth(1).and_then(|k| k.split('"').next()).and_then(|k| k.trim().parse().ok());
            let name = body.trim().trim_start_matches("<![CDATA[").trim_end_matches("]]>").trim();
            if let Some(key) = key.filter(|&k: &u32| k != 0 && !name.is_empty()) {
                t.entries.insert(key, Entry { name: name.to_string(), bone_class: None, side: None });
            }
            rest = &rest[end..];
        }
        (!t.entries.is_empty()).then_some(t)
    }

    /// The table written in `format`, each label in its [`palette`] colour.
    pub fn to_format(&self, format: TableFormat) -> String {
        self.to_format_with(format, &|l| palette::label_colour(self, l).unwrap_or_default())
    }

    /// The table written in `format` with the given colour of each label. A Slicer colour
    /// table's names have their whitespace made `_` (its fields are whitespace-separated); an
    /// ITK-SNAP name's double quotes become single ones.
    pub fn to_format_with(&self, format: TableFormat, colour: &dyn Fn(u32) -> Rgb) -> String {
        let info = |l: u32| self.info(l).expect("a listed label");
        let mut s = String::new();
        match format {
            TableFormat::Tsv | TableFormat::Csv => {
                let sep = if format == TableFormat::Tsv { "\t" } else { "," };
                s.push_str(&["index", "name", "bone_class", "side"].join(sep));
                s.push('\n');
                for (k, e) in &self.entries {
                    let i = info(*k);
                    s.push_str(
                        &[k.to_string(), e.name.clone(), i.bone_class.as_str().into(), i.side.as_str().into()]
                            .join(sep),
                    );
                    s.push('\n');
                }
            }
            TableFormat::Json => {
                let map: serde_json::Map<String, serde_json::Value> = self
                    .entries
                    .iter()
                    .map(|(k, e)| {
                        let i = info(*k);
                        let v = serde_json::json!({"name": e.name, "bone_class": i.bone_class.as_str(), "side": i.side.as_str()});
                        (k.to_string(), v)
                    })
                    .collect();
                s = serde_json::to_string_pretty(&map).expect("JSON of strings") + "\n";
            }
            TableFormat::ItkSnap => {
                s.push_str("# ITK-SNAP Label Description File\n# IDX R G B A VIS MSH LABEL\n");
                s.push_str("    0     0    0    0        0  0  0    \"Clear Label\"\n");
                for (k, e) in &self.entries {
                    let [r, g, b] = colour(*k);
                    s.push_str(&format!(
                        "{k:5} {r:5} {g:4} {b:4}        1  1  1    \"{}\"\n",
                        e.name.replace('"', "'")
                    ));
                }
            }
            TableFormat::SlicerCtbl => {
                s.push_str(&format!("# Color table file\n# {} values\n0 Background 0 0 0 0\n", self.len() + 1));
                for (k, e) in &self.entries {
                    let [r, g, b] = colour(*k);
                    let name = e.name.split_whitespace().collect::<Vec<_>>().join("_");
                    s.push_str(&format!("{k} {name} {r} {g} {b} 255\n"));
                }
            }
            TableFormat::SlicerCsv => {
                s.push_str("LabelValue,Name,Color_R,Color_G,Color_B,Color_A\n");
                for (k, e) in &self.entries {
                    let [r, g, b] = colour(*k);
                    let name = if e.name.contains([',', '"']) {
                        format!("\"{}\"", e.name.replace('"', "'"))
                    } else {
                        e.name.clone()
                    };
                    s.push_str(&format!("{k},{name},{r},{g},{b},255\n"));
                }
            }
            TableFormat::FslLut => {
                for (k, e) in &self.entries {
                    let [r, g, b] = colour(*k).map(|c| c as f64 / 255.0);
                    s.push_str(&format!("{k} {r:.5} {g:.5} {b:.5} {}\n", e.name));
                }
            }
        }
        s
    }

    /// The table as BIDS-style TSV text (`index`, `name`, `bone_class`, `side`).
    pub fn to_tsv(&self) -> String {
        self.to_format(TableFormat::Tsv)
    }
}

/// The non-empty, non-comment (`#`) lines of a table, trimmed, with their 1-based numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Fields of one delimited line, trimmed, with surrounding double quotes removed.
fn split_fields(line: &str, sep: char) -> Vec<String> {
    line.split(sep).map(|f| f.trim().trim_matches('"').trim().to_string()).collect()
}

fn parse_opt<T>(v: Option<&str>, parse: fn(&str) -> Option<T>, what: &str) -> std::result::Result<Option<T>, String> {
    match v {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| format!("unknown {what} {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_and_json_tables() {
        let t = LabelTable::parse("index\tname\tcolor\n0\tbackground\t#000\n1\tvertebra_T7\t#fff\n7\tsternum\t#f00\n")
            .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.name(7), Some("sternum"));
        let j = LabelTable::parse(r#"{"1": "vertebra_T7", "7": "sternum"}"#).unwrap();
        assert_eq!(t, j);
        assert!(LabelTable::parse("idx\tname\n1\ta\n").is_err());
        assert!(LabelTable::parse("index\tname\n1\ta\n1\tb\n").is_err());
        assert!(LabelTable::parse("index\tname\nx\ta\n").is_err());
        assert!(LabelTable::parse(r#"{"a": "b"}"#).is_err());
    }

    /// Every format written and read back gives the same names, bone classes and sides.
    #[test]
    fn every_format_round_trips() {
        let mut t = LabelTable::from_pairs([(1, "vertebrae_T7"), (4, "hip_left"), (9, "tibia"), (12, "os_odd")]);
        // Table columns override what the name says.
        t.entries.get_mut(&9).unwrap().side = Some(Side::Right);
        t.entries.get_mut(&12).unwrap().bone_class = Some(BoneClass::Mandible);
        let infos = |t: &LabelTable| t.iter().map(|(l, n)| (l, n.to_string(), t.info(l).unwrap())).collect::<Vec<_>>();
        for f in TableFormat::ALL {
            let text = t.to_format(f);
            let back = LabelTable::parse(&text).unwrap_or_else(|e| panic!("{f:?}: {e}\n{text}"));
            let names: Vec<(u32, String)> = back.iter().map(|(l, n)| (l, n.to_string())).collect();
            assert_eq!(names, t.iter().map(|(l, n)| (l, n.to_string())).collect::<Vec<_>>(), "{f:?}");
            // Formats without class and side columns give what the names say.
            let carries = matches!(f, TableFormat::Tsv | TableFormat::Csv | TableFormat::Json);
            if carries {
                assert_eq!(infos(&back), infos(&t), "{f:?}");
            } else {
                assert_eq!(back.info(9).unwrap().side, Side::Midline, "{f:?}");
            }
        }
        assert_eq!(t.info(9).unwrap().side, Side::Right);
        assert_eq!(t.info(12).unwrap().bone_class, BoneClass::Mandible);
    }

    #[test]
    fn itk_snap_slicer_and_caret_tables_as_their_tools_write_them() {
        let itk = "################################################\n# ITK-SnAP Label Description File\n\
                   #    IDX:   Zero-based index\n\
                       0     0    0    0        0  0  0    \"Clear Label\"\n\
                       1   255    0    0        1  1  1    \"femur left\"\n\
                      26     0  255    0        1  1  0    \"vertebrae_S1\"\n";
        let t = LabelTable::parse(itk).unwrap();
        assert_eq!((t.len(), t.name(1), t.name(26)), (2, Some("femur left"), Some("vertebrae_S1")));
        let ctbl = "# Color table file /tmp/x.ctbl\n# 3 values\n0 Background 0 0 0 0\n25 sacrum 10 20 30 255\n77 hip_left 1 2 3 255\n";
        let t = LabelTable::parse(ctbl).unwrap();
        assert_eq!((t.name(25), t.info(77).unwrap().bone_class), (Some("sacrum"), BoneClass::Pelvis));
        let csv = "LabelValue,Name,Color_R,Color_G,Color_B,Color_A\n0,Background,0,0,0,0\n75,femur_left,1,2,3,255\n";
        assert_eq!(LabelTable::parse(csv).unwrap().name(75), Some("femur_left"));
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?> <CaretExtension> <VolumeInformation Index="0"> <LabelTable>
<Label Key="25" Red="1.0" Green="0.0" Blue="0.0" Alpha="1"><![CDATA[sacrum]]></Label>
<Label Key="37" Red="0.0" Green="1.0" Blue="0.0" Alpha="1"><![CDATA[vertebrae_T7]]></Label>
</LabelTable></VolumeInformation></CaretExtension>"#;
        let t = LabelTable::from_caret_xml(xml).unwrap();
        assert_eq!((t.name(25), t.name(37), t.len()), (Some("sacrum"), Some("vertebrae_T7"), 2));
        assert!(LabelTable::from_caret_xml("<CaretExtension/>").is_none());
        assert!(LabelTable::parse("1 \"a\"\n").is_err(), "an ITK-SNAP line needs 7 numbers");
    }
}
