// The review page in a real browser: Debian's chromium, headless with software WebGL, driven
// by playwright-core. CRMO_REVIEW_DIRS lists output folders of `crmo-map run` (one per line,
// optionally `DIR<TAB>HOSTILE_NAME` when a region there carries a hostile name); for each:
// the page opens from file:// and is ready within READY_MS, makes no request outside its
// folder and none fails, draws the canvas, clicking each lesion row puts the crosshair on
// that lesion, clicking a lesion in the image selects its row, the keys n / p walk the rows,
// the equivocal foci are listed one line each, a hostile name shows as text (in the table or
// the list), and the report's warnings (a CT) head the page. Run by
// scripts/browser-test.sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require(path.resolve("scripts/web/node_modules/playwright-core"));
const READY_MS = 15000;
const dirs = (process.env.CRMO_REVIEW_DIRS || "").split("\n").filter(Boolean).map((l) => l.split("\t"));

async function withPage(dir, fn) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
      "--disable-quic"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const requests = [], failed = [], errors = [], dialogs = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("requestfailed", (r) => failed.push(r.url() + " " + (r.failure() || {}).errorText));
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    const url = pathToFileURL(path.join(dir, "review.html")).href;
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector("body[data-ready]", { timeout: READY_MS });
    const readyMs = Date.now() - t0;
    await fn({ page, requests, failed, errors, dialogs, readyMs, url });
  } finally {
    await browser.close();
  }
}

// The lesion id under the crosshair, read from NiiVue's own lesion volume.
const idAtCrosshair = (page) => page.evaluate(() => {
  const nv = window.crmoReview.nv;
  const v = nv.volumes[0].convertFrac2Vox(nv.scene.crosshairPos);
  return Math.round(nv.volumes[2].getValue(v[0], v[1], v[2]));
});

for (const [dir, hostile] of dirs) {
  test(`review page of ${path.basename(dir)}`, { timeout: 120000 }, async () => {
    const report = JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8"));
    await withPage(dir, async ({ page, requests, failed, errors, dialogs, readyMs }) => {
      assert.equal(await page.evaluate(() => document.body.dataset.ready), "viewer", "the viewer started (WebGL2)");
      assert.ok(readyMs < READY_MS, `ready in ${readyMs} ms`);
      const root = pathToFileURL(dir).href;
      const outside = requests.filter((u) => !(u.startsWith(root + "/") || u.startsWith("data:") || u.startsWith("blob:")));
      assert.deepEqual(outside, [], "no request outside the output folder");
      assert.deepEqual(failed, [], "no failed request");
      assert.deepEqual(errors, [], "no script error");
      // The inputs' warnings (report.json input.warnings) head the page, as text.
      assert.equal(await page.locator("#warnings").textContent(),
        report.input.warnings.map((w) => "warning: " + w).join(" · "), "the warnings in the header");
      assert.equal(await page.locator("#warnings").isVisible(), report.input.warnings.length > 0);
      // The canvas is drawn: a good share of its pixels are not background.
      const shot = await page.locator("#gl").screenshot();
      const lit = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = "data:image/png;base64," + b64;
        await img.decode();
        const c = document.createElement("canvas");
        [c.width, c.height] = [img.width, img.height];
        const g = c.getContext("2d");
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 30) n++;
        return n / (d.length / 4);
      }, shot.toString("base64"));
      assert.ok(lit > 0.05, `canvas drawn (${(100 * lit).toFixed(1)}% lit)`);
      // Every row puts the crosshair on its lesion.
      const rows = page.locator("#lesions tbody tr");
      assert.equal(await rows.count(), report.lesions.length);
      for (let n = 0; n < report.lesions.length; n++) {
        await rows.nth(n).click();
        assert.equal(await idAtCrosshair(page), report.lesions[n].id, `row ${n + 1}: crosshair on lesion ${report.lesions[n].id}`);
        assert.equal(await page.locator("#lesions tbody tr.sel").getAttribute("data-id"), String(report.lesions[n].id));
      }
      if (report.lesions.length >= 2) {
        // Keys walk the rows.
        await page.keyboard.press("p");
        assert.equal(await idAtCrosshair(page), report.lesions[report.lesions.length - 2].id, "p: the previous lesion");
        await page.keyboard.press("n");
        assert.equal(await idAtCrosshair(page), report.lesions[report.lesions.length - 1].id, "n: the next lesion");
        // A click on the first lesion in the image selects its row: with the views through
        // it, another row is marked (the crosshair stays), then the lesion is clicked.
        const first = report.lesions[0];
        await rows.nth(0).click();
        const pos = await page.evaluate(() => {
          const nv = window.crmoReview.nv;
          const p = nv.frac2canvasPos(nv.scene.crosshairPos);
          const r = nv.canvas.getBoundingClientRect();
          const s = nv.canvas.width / r.width;
          return p ? [r.left + p[0] / s, r.top + p[1] / s] : null;
        });
        assert.ok(pos, "the first lesion is on screen");
        await page.evaluate((n) => window.crmoReview.highlight(n), report.lesions.length - 1);
        await page.mouse.click(pos[0], pos[1]);
        await page.waitForFunction((id) => document.querySelector("#lesions tbody tr.sel")?.dataset.id === String(id), first.id, { timeout: 5000 });
      }
      // The bisphosphonate-relevant flag is in the header, in view without scrolling.
      const spine = page.locator("#spine");
      assert.match(await spine.textContent(), /^vertebral involvement: (yes|no)/);
      const box = await spine.boundingBox();
      assert.ok(box && box.y + box.height <= 1000, "the spine flag is visible without scrolling");
      const levels = report.summary.vertebral_levels;
      if (levels.length) assert.ok((await spine.textContent()).includes("yes (" + levels.join(", ") + ")"), "levels in the header");
      if (report.staging.spine.bisphosphonate_relevant) assert.match(await spine.textContent(), /bisphosphonate-relevant/);
      const regions = await page.locator("#lesions tbody tr td:nth-child(2)").allTextContents();
      assert.deepEqual(regions, report.lesions.map((l) => l.region), "every lesion's region in the table");
      // The equivocal foci (report.json equivocal_foci) are listed under the table, one line
      // each, and are not rows of it.
      const foci = await page.locator("#equivocal li").allTextContents();
      assert.equal(foci.length, report.equivocal_foci.length, "one line per equivocal focus");
      report.equivocal_foci.forEach((f, i) => assert.ok(foci[i].startsWith(f.region + ", "), `focus ${i + 1} names its region`));
      if (hostile) {
        const cells = await page.locator("#lesions td, #units td, #equivocal li").allTextContents();
        assert.ok(cells.some((t) => t.includes(hostile)), "the hostile name shows as text");
        assert.equal(await page.locator("#side script, #side img").count(), 0, "and makes no element");
      }
      assert.deepEqual(dialogs, [], "no script from the inputs ran");
      await page.screenshot({ path: path.join(dir, "review-screenshot.png") });
      console.log(`# ${path.basename(dir)}: ready in ${readyMs} ms, ${report.lesions.length} lesion(s), ${(100 * lit).toFixed(0)}% of the canvas lit`);
    });
  });
}

// Without WebGL the page shows its static pictures, every one of which loads.
test("static fallback without WebGL", { timeout: 60000, skip: dirs.length === 0 }, async () => {
  const dir = dirs[0][0];
  const report = JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8"));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-3d-apis", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    const failed = [];
    page.on("requestfailed", (r) => failed.push(r.url()));
    await page.goto(pathToFileURL(path.join(dir, "review.html")).href);
    await page.waitForSelector("body[data-ready]", { timeout: READY_MS });
    assert.equal(await page.evaluate(() => document.body.dataset.ready), "fallback");
    const imgs = page.locator("#fallback img");
    assert.equal(await imgs.count(), 1 + report.lesions.length, "the overview and one slice per lesion");
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#fallback img")).every((i) => i.complete && i.naturalWidth > 0));
    assert.deepEqual(failed, []);
    assert.match(await page.locator("#fallback-why").textContent(), /WebGL2/);
  } finally {
    await browser.close();
  }
});

test("at least one review page was given", () => {
  assert.ok(dirs.length > 0, "CRMO_REVIEW_DIRS names the output folders to check");
});
