// node render-equiv.mjs EQUIV.html SCREENSHOT.png
// Opens probity's self-contained equiv.html in Debian's headless Chromium with the network off,
// checks that it loads without script errors or requests, that the verdict, one row per
// normalisation and per difference, symbols and unified diffs rendered and that search filters,
// and writes a screenshot. Exit 0 only if every check holds.
import { readFileSync } from "node:fs";
import { checkPage } from "./page.mjs";

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error("usage: node render-equiv.mjs EQUIV.html SCREENSHOT.png");
  process.exit(2);
}
const text = readFileSync(html, "utf8");
const start = text.indexOf('id="equiv-data" type="application/json">') + 40;
const data = JSON.parse(text.slice(start, text.indexOf("</script>", start)).replace(/<\\\//g, "</"));

await checkPage("equiv.html", html, png, async (page, check) => {
  const title = await page.textContent("#title");
  check(title.includes(data.shipped.name) && title.includes(data.rebuilt.name), `title names both images (${title})`);
  const v = await page.textContent("#verdict-result");
  check(v.trim() === data.verdict.toUpperCase(), `verdict shown (${v})`);
  check(await page.locator("#normalisations-table tbody tr").count() === data.normalisations.length, "one row per normalisation");
  check(await page.locator("#differences-table tbody tr").count() === data.differences.length, "one row per difference");
  for (const d of data.differences) {
    if (d.symbols && d.symbols.length) {
      check((await page.textContent("#differences-table")).includes(d.symbols[0]), `symbol ${d.symbols[0]} shown`);
    }
    if (d.unified_diff) check(await page.locator("pre.udiff").count() >= 1, "unified diff rendered");
  }
  if (data.normalisations.length > 1) {
    await page.fill('input[aria-label="search normalisations-table"]', data.normalisations[0].rule);
    const n = await page.locator("#normalisations-table tbody tr").count();
    check(n >= 1 && n < data.normalisations.length, `search filters normalisations (${n})`);
  }
});
