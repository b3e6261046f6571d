// node render-diff.mjs DIFF.html SCREENSHOT.png
// Opens probity's self-contained diff.html in Debian's headless Chromium with the network off,
// checks that it loads without script errors or requests, that the key content rendered (title
// names both images, one stat per count, a row per new/fixed/persisting finding, per account,
// service, component change, vulnerability and source change; new uid-0 accounts and
// downgrades stand out;
// search works), and writes a screenshot. Exit 0 only if every check holds.
import { readFileSync } from "node:fs";
import { checkPage } from "./page.mjs";

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error("usage: node render-diff.mjs DIFF.html SCREENSHOT.png");
  process.exit(2);
}
const text = readFileSync(html, "utf8");
const data = JSON.parse(text.slice(text.indexOf('type="application/json">') + 24, text.indexOf("</script>")).replace(/<\\\//g, "</"));
const len = (sec, key) => ((data[sec] || {})[key] || []).length;

await checkPage("diff.html", html, png, async (page, check) => {
  const title = await page.textContent("#title");
  check(title.includes(data.old.name) && title.includes(data.new.name), `title names both images (${title})`);
  check(await page.locator("#stats .stat").count() >= 10, "summary counts shown");
  const nf = len("findings", "new") + len("findings", "fixed") + len("findings", "persisting");
  for (const k of ["new", "fixed", "persisting"])
    check(await page.locator(`#findings-${k}-table tbody tr`).count() === len("findings", k), `one row per ${k} finding (${len("findings", k)})`);
  const firstSection = await page.evaluate(() => document.querySelector("main section").id);
  check(firstSection === "verdict-section", `verdict and clause regressions come first (${firstSection})`);
  check(await page.locator("#clause-regressions tbody tr").count() === len("verdict", "clause_regressions"), "one row per clause regression");
  const na = len("accounts", "added") + len("accounts", "removed") + len("accounts", "changed");
  check(await page.locator("#accounts-table tbody tr").count() === na, `one row per account change (${na})`);
  check(await page.locator("#services-table tbody tr").count() === len("services", "added") + len("services", "removed"), "one row per service");
  const nc = len("components", "changed") + len("components", "added") + len("components", "removed");
  check(await page.locator("#components-table tbody tr").count() === nc, `one row per component change (${nc})`);
  check(await page.locator("#vulns-table tbody tr").count() === len("vulnerabilities", "fixed") + len("vulnerabilities", "introduced"), "one row per vulnerability");
  if ((data.accounts.added || []).some(a => a.uid === 0))
    check(await page.locator("#accounts-table b.down").count() >= 1, "a new uid-0 account stands out");
  if ((data.components.changed || []).some(c => c.direction === "downgrade"))
    check(await page.locator("#components-table span.down").count() >= 1, "a downgrade stands out");
  if (data.source) {
    const nsrc = (data.source.changes || []).length;
    check(await page.locator("#source-section").isVisible(), "a source diff shows its changes section");
    check(await page.locator("#source-changes-table tbody tr").count() === nsrc, `one row per source change (${nsrc})`);
  }
  if (len("findings", "persisting") > 1) {
    const first = data.findings.persisting[0], np = len("findings", "persisting");
    await page.fill('input[aria-label="search findings-persisting-table"]', first.id);
    const n = await page.locator("#findings-persisting-table tbody tr").count();
    check(n >= 1 && n < np, "search filters findings by id");
  }
});
