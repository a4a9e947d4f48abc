// crmo-map review page: the scan with the lesion and region maps in NiiVue, the lesion table
// and the staging summary. Every string from the inputs is set as text (never as HTML).
// window.CRMO_REVIEW comes from review/data.js; window.niivue from review/niivue.umd.js.
(function () {
  "use strict";
  const D = window.CRMO_REVIEW;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const fmt = (x, d) => (x === null || x === undefined || !isFinite(x) ? "–" : Number(x).toFixed(d));
  const yes = (b) => (b ? "yes" : "no");
  const state = { selected: -1, nv: null, ready: false, lesionVolume: null };
  window.crmoReview = state;

  function header() {
    const sp = D.staging.spine;
    const spine = $("spine");
    spine.textContent =
      "vertebral involvement: " + yes(sp.vertebral_involvement) +
      (sp.levels.length ? " (" + sp.levels.join(", ") + ")" : "") +
      (sp.bisphosphonate_relevant ? " — bisphosphonate-relevant" : "");
    spine.className = sp.vertebral_involvement ? "yes" : "no";
    $("count").textContent = D.lesions.length + " lesion(s) in " + D.summary.bone_count + " bone(s)";
    $("source").textContent = D.scan + " · crmo-map " + D.version;
    // What the lesions mean (a scan that looks like a CT): report.json's input.warnings.
    $("warnings").textContent = (D.warnings || []).map((w) => "warning: " + w).join(" · ");
    document.title = "crmo-map review: " + D.scan;
  }

  function lesionTable() {
    const body = $("lesions").querySelector("tbody");
    D.lesions.forEach((l, n) => {
      const tr = el("tr");
      tr.dataset.id = l.id;
      const id = el("td");
      const sw = el("span", null, "sw");
      sw.style.background = l.colour;
      id.append(sw, document.createTextNode(String(l.id)));
      tr.append(id, el("td", l.region), el("td", l.side), el("td", fmt(l.volume_mm3, 0), "n"),
        el("td", fmt(l.ratio_to_marrow, 2), "n"), el("td", fmt(l.z_max, 1), "n"),
        el("td", fmt(100 * l.fraction_of_region, 1), "n"));
      tr.addEventListener("click", () => select(n));
      body.append(tr);
    });
  }

  // Foci set aside as possible normal variants: listed, not lesions (report.json's
  // equivocal_foci; not in the lesion map).
  function equivocal() {
    const foci = D.equivocal || [];
    if (!foci.length) return;
    $("equivocal-note").textContent = foci.length + " equivocal focus/foci set aside (under " +
      fmt(D.variant_focus_mm, 0) + " mm at a normal-variant site; not lesions, not in the map):";
    const ul = $("equivocal");
    for (const f of foci) {
      ul.append(el("li", f.region + ", " + fmt(f.volume_mm3, 0) + " mm³, ratio to marrow " + fmt(f.ratio_to_marrow, 2) +
        ", at " + f.centroid_mm.map((x) => fmt(x, 0)).join(", ") + " mm"));
    }
  }

  function staging() {
    const s = D.staging;
    const items = [
      ["multifocal (more than one lesion)", s.eular_acr_2025.multifocal],
      ["symmetric lesions", s.jansson.symmetric_lesions],
      ["vertebral, clavicular or sternal site", s.jansson.vertebral_clavicular_or_sternal_site],
      ["more than one bone (Bristol)", s.bristol.more_than_one_bone],
      ["single clavicular lesion (Bristol)", s.bristol.single_clavicular_lesion],
      ["mandible", s.eular_acr_2025.mandible],
      ["clavicle", s.eular_acr_2025.clavicle],
      ["sternum", s.eular_acr_2025.sternum],
    ];
    const ul = $("items");
    for (const [k, v] of items) ul.append(el("li", k + ": " + yes(v)));
    ul.append(el("li", "RINBO: " + s.rinbo.active_lesions + " active lesion(s); largest " +
      fmt(s.rinbo.largest_lesion_mm3, 0) + " mm³" + (s.rinbo.largest_lesion_id ? " (lesion " + s.rinbo.largest_lesion_id + ")" : "") +
      "; spinal " + yes(s.rinbo.spinal_involvement) + "; extramedullary not assessed"));
    if (s.extent_grade.provisional) $("units-provisional").textContent = "extent grades provisional (cut-offs unverified)";
    const body = $("units").querySelector("tbody");
    for (const u of s.bone_units) {
      const tr = el("tr");
      tr.append(el("td", u.unit), el("td", u.lesion_ids.join(", ")), el("td", fmt(100 * u.fraction_involved, 1), "n"),
        el("td", u.extent_grade_label + (u.extent_grade_provisional ? " *" : "")), el("td", fmt(u.max_ratio_to_marrow, 2), "n"),
        el("td", fmt(u.max_z, 1), "n"));
      body.append(tr);
    }
    if (D.reduced) $("reduced").textContent = "The viewer shows a review copy downsampled " + D.factor.join(" x ") +
      " (full-resolution maps beside this page: lesions.nii.gz, regions.nii.gz).";
  }

  function rows() {
    return Array.from($("lesions").querySelectorAll("tbody tr"));
  }

  function highlight(n) {
    state.selected = n;
    rows().forEach((tr, i) => tr.classList.toggle("sel", i === n));
    const tr = rows()[n];
    if (tr) tr.scrollIntoView({ block: "nearest" });
  }

  // Selects lesion n (row order): the crosshair to its centroid, zoomed onto it.
  function select(n) {
    if (n < 0 || n >= D.lesions.length) return;
    highlight(n);
    const nv = state.nv;
    if (!nv || !state.ready) return;
    const l = D.lesions[n];
    const mm = l.anchor_mm;
    nv.scene.crosshairPos = nv.volumes[0].convertMM2Frac(mm, true);
    const zoom = Math.min(2.5, Math.max(1.25, 100 / Math.max(20, l.extent_mm)));
    nv.scene.pan2Dxyzmm = [(1 - zoom) * mm[0], (1 - zoom) * mm[1], (1 - zoom) * mm[2], zoom];
    nv.drawScene();
    nv.createOnLocationChange && nv.createOnLocationChange();
  }

  function lesionAt(location) {
    const v = location && location.values && location.values[state.lesionVolume];
    return v ? Math.round(v.value) : 0;
  }

  state.highlight = highlight;

  function keys(e) {
    if (e.target && e.target.tagName === "INPUT") return;
    if (e.key === "n") select(Math.min(D.lesions.length - 1, state.selected + 1));
    if (e.key === "p") select(Math.max(0, state.selected - 1));
  }

  function fallback(why) {
    $("gl").style.display = "none";
    $("controls").style.display = "none";
    const f = $("fallback");
    f.style.display = "block";
    $("fallback-why").textContent = why + " Showing static pictures instead.";
    const box = $("fallback-images");
    const fig = (src, caption) => {
      const fg = el("figure");
      const img = el("img");
      img.src = src;
      img.alt = caption;
      fg.append(img, el("figcaption", caption));
      box.append(fg);
    };
    fig(D.overview, "Coronal maximum-intensity projection with every lesion");
    for (const l of D.lesions) fig("review/lesion-" + l.id + ".png", "Lesion " + l.id + ": " + l.region);
    state.ready = true;
    document.body.dataset.ready = "fallback";
  }

  async function viewer() {
    const probe = document.createElement("canvas").getContext("webgl2");
    if (!probe) return fallback("This browser has no WebGL2.");
    if (!window.niivue || !window.niivue.Niivue) return fallback("The viewer (NiiVue) is not bundled with this build.");
    const N = window.niivue;
    const nv = new N.Niivue({
      isRadiologicalConvention: true, backColor: [0, 0, 0, 1], crosshairColor: [1, 1, 1, 0.8],
      show3Dcrosshair: false, dragAndDropEnabled: false, isColorbar: false, loadingText: "",
      multiplanarShowRender: 0,
    });
    state.nv = nv;
    await nv.attachToCanvas($("gl"));
    const load = async (key, name, extra) => {
      const img = await N.NVImage.loadFromBase64({ base64: D.volumes[key], name, colormap: "gray", opacity: extra.opacity });
      if (extra.lut) img.setColormapLabel(extra.lut);
      return img;
    };
    const scan = await load("scan", "scan.nii.gz", { opacity: 1 });
    const regions = await load("regions", "regions.nii.gz", { opacity: 0.35, lut: D.region_lut });
    const lesions = await load("lesions", "lesions.nii.gz", { opacity: 0.9, lut: D.lesion_lut });
    nv.addVolume(scan);
    nv.addVolume(regions);
    nv.addVolume(lesions);
    state.lesionVolume = 2;
    nv.setSliceType(nv.sliceTypeMultiplanar);
    nv.onLocationChange = (loc) => {
      state.location = loc;
      const id = lesionAt(loc);
      const n = D.lesions.findIndex((l) => l.id === id);
      if (id > 0 && n >= 0 && n !== state.selected) highlight(n);
      $("status").textContent = loc && loc.string ? loc.string : "";
    };
    $("radiological").addEventListener("change", (e) => nv.setRadiologicalConvention(e.target.checked));
    $("show-regions").addEventListener("change", (e) => nv.setOpacity(1, e.target.checked ? 0.35 : 0));
    $("show-lesions").addEventListener("change", (e) => nv.setOpacity(2, e.target.checked ? 0.9 : 0));
    state.ready = true;
    $("status").textContent = "";
    document.body.dataset.ready = "viewer";
    if (D.lesions.length) select(0);
  }

  header();
  lesionTable();
  equivocal();
  staging();
  document.addEventListener("keydown", keys);
  viewer().catch((e) => fallback("The viewer could not start (" + (e && e.message ? e.message : e) + ")."));
})();
