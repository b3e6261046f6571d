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
const data = JSON.parse(text.slice(text.indexOf('type="application/json">') + 24, text.indexOf("</script>")).replace(/<\\\//g, "</"));

await checkPage("report.html", html, png, async (page, check) => {
  const title = await page.textContent("#title");
  check(title.includes(data.image.name), `title names the image (${title})`);
  if (data.verdict) {
    const v = await page.textContent("#verdict-result");
    check(v.trim() === data.verdict.result.toUpperCase(), `verdict shown (${v})`);
    check(await page.locator("#clauses tbody tr").count() === data.verdict.clauses.length, "one row per clause");
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
