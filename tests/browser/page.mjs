// Shared by the render*.mjs checks: opens a self-contained HTML page in Debian's headless
// Chromium with the network off, fails on any script error or network request, runs the page's
// own checks, writes a screenshot, and exits 1 listing every failed check (0 when all hold).
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

// checks(page, check): check(ok, what) records a failure when ok is false.
export async function checkPage(name, html, png, checks) {
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", e => errors.push(String(e)));
    page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
    const requests = [];
    page.on("request", r => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
    await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
    check(errors.length === 0, "script errors: " + errors.join("; "));
    check(requests.length === 0, "network requests: " + requests.join(", "));
    await checks(page, check);
    // SCREENSHOT_FULL_PAGE=0: the top of the page only (the pictures in docs/ for the README).
    if (process.env.SCREENSHOT_FULL_PAGE === "0") await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: png, fullPage: process.env.SCREENSHOT_FULL_PAGE !== "0" });
  } finally {
    await browser.close();
  }
  if (failures.length) {
    console.error(`${name} checks failed:\n  ` + failures.join("\n  "));
    process.exit(1);
  }
  console.log(`${name} ok: ${png}`);
}
