// node render.mjs REPORT.html SCREENSHOT.png [EXPECT_JSON]
// Opens probity's self-contained report.html in Debian's headless Chromium with the network off,
// checks that it loads without script errors, that the key content rendered (title, verdict,
// severity chart, a row per finding, component and vulnerability; search and sort work), and
// writes a screenshot. Exit 0 only if every check holds.
import { readFileSync } from "node:fs";
import { checkPage } from "./page.mjs";

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error("usage: node render.mjs REPORT.html SCREENSHOT.png");
  process.exit(2);
}
const text = readFileSync(html, "utf8");
// The report is the script element with id report-data (page-extras, before it, holds the image
// map and evidence views).
const json = id => {
  const open = text.indexOf(`<script id="${id}" type="application/json">`);
  if (open < 0) return null;
  const start = text.indexOf(">", open) + 1;
  return JSON.parse(text.slice(start, text.indexOf("</script>", start)).replace(/<\\\//g, "</"));
};
const data = json("report-data");
const extras = json("page-extras") || {};

await checkPage("report.html", html, png, async (page, check) => {
  const title = await page.textContent("#title");
  check(title.includes(data.image.name), `title names the image (${title})`);
  if (data.verdict) {
    const v = await page.textContent("#verdict-result");
    check(v.trim() === data.verdict.result.toUpperCase(), `verdict shown (${v})`);
    const failing = data.verdict.clauses.filter(c => c.result !== "pass");
    check(await page.locator("#clauses tbody tr").count() === failing.length, "failing clauses first, one row each");
    check(await page.locator("#clauses-passing tbody tr").count() === data.verdict.clauses.length - failing.length, "passing clauses folded below");
    const firstSection = await page.evaluate(() => document.querySelector("main section").id);
    check(firstSection === "verdict", `the verdict is the first section (${firstSection})`);
    // Each breaking finding of a failing clause links to its row.
    for (const c of failing.slice(0, 3))
      for (const id of (c.findings || []).slice(0, 3))
        check(await page.locator(`#clauses a[href="#finding-${id}"]`).count() === 1 &&
              await page.locator(`[id="finding-${id}"]`).count() === 1, `clause ${c.id} links to finding ${id}`);
  }
  // Every link on the page lands on an element (no dangling anchor).
  const dangling = await page.evaluate(() => [...document.querySelectorAll('a[href^="#"]')]
    .map(a => a.getAttribute("href").slice(1)).filter(id => id && !document.getElementById(id)));
  check(dangling.length === 0, "links without a target: " + dangling.slice(0, 5).join(", "));
  // Every finding id and CVE is an anchor.
  for (const f of (data.findings || []).slice(0, 50))
    check(await page.locator(`[id="finding-${f.id}"]`).count() === 1, `finding ${f.id} has an anchor`);
  for (const v of (data.vulnerabilities || []).slice(0, 20))
    check(await page.locator(`[id="cve-${v.id}"]`).count() >= 1, `${v.id} has an anchor`);
  for (const s of ["accounts-section", "boot-services-section", "listening-section", "keys-section", "endpoints-section"])
    check(await page.locator("#" + s).count() === 1, `section ${s}`);
  if (data.facts && (data.facts.accounts || []).length)
    check(await page.locator("#accounts-table tbody tr").count() === data.facts.accounts.length, "one row per account");
  if (data.facts && (data.facts.keys || []).length)
    check(await page.locator("#keys-table tbody tr").count() === data.facts.keys.length, "one row per key");
  if ((data.components || []).some(c => c.eol && c.eol.reached))
    check(await page.locator("#components-table .eol-reached").count() >= 1, "end of life reached is marked");
  if ((extras.regions || []).length) {
    check(await page.locator("#image-map-bar rect").count() === extras.regions.length, "image map: one bar segment per region");
  }
  const views = Object.keys(extras.evidence || {});
  if (views.length) {
    const id = views[0];
    const row = page.locator(`tr:has([id="finding-${id}"])`);
    check(await row.locator("details.fileview").count() === 1, "a finding has its file view");
    if (extras.evidence[id].hexdump)
      check(await row.locator("pre.hex").count() === 1, "the file view has a hexdump");
  }
  check(await page.locator("#severity-chart rect").count() === 5, "severity chart has 5 bars");
  const nf = (data.findings || []).length;
  check(await page.locator("#findings-table tbody tr").count() === nf, `one row per finding (${nf})`);
  check(await page.locator("#components-table tbody tr").count() === (data.components || []).length, "one row per component");
  check(await page.locator("#vulns-table tbody tr").count() === (data.vulnerabilities || []).length, "one row per vulnerability");
  if (nf > 1) {
    const first = data.findings[0];
    await page.fill('input[aria-label="search findings-table"]', first.id);
    check(await page.locator("#findings-table tbody tr").count() >= 1, "search finds a finding by id");
    check(await page.locator("#findings-table tbody tr").count() < nf, "search filters rows");
    await page.fill('input[aria-label="search findings-table"]', "");
    await page.click("#findings-table th:nth-child(3)");
    const rules = await page.locator("#findings-table tbody tr td:nth-child(3)").allTextContents();
    check(JSON.stringify(rules) === JSON.stringify([...rules].sort((a, b) => a.localeCompare(b))), "sorting by rule orders rows");
  }
});
