// Lighthouse on several pages, one after the other, in one Chromium started once:
//
//   CHROME_PATH=/usr/bin/chromium node tests/support/lighthouse.mjs OUT_DIR FLAGS_JSON URL...
//
// writes OUT_DIR/0.json, OUT_DIR/1.json... (Lighthouse's JSON report of each URL, in order).
// FLAGS_JSON: {"chromeFlags": [...], "onlyCategories": [...]}; everything else is Lighthouse's
// default: a phone, simulated throttling. Called by tests/support/lighthouse.py.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const [outDir, flagsJson, ...urls] = process.argv.slice(2);
const { chromeFlags, onlyCategories } = JSON.parse(flagsJson);
const chrome = await chromeLauncher.launch({ chromeFlags, logLevel: "error" });
const run = (url) =>
  lighthouse(url, {
    port: chrome.port,
    output: "json",
    onlyCategories,
    logLevel: "error",
    // Neither counts in a score, and each takes a second or half of one: the picture of the
    // whole page (for people reading the report) and a trip away and back (the page's
    // back/forward cache, which holds no page with an open event stream anyway).
    disableFullPageScreenshot: true,
    skipAudits: ["bf-cache"],
  });
// A Chromium just started paints its first page slowly (its caches and processes are cold):
// the first page measured would lose points for what no visitor's browser pays. A page of
// plain text, of no site, warms it up; what the site's own pages cost is left to measure.
async function warmUp() {
  const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` });
  try {
    const page = await browser.newPage();
    await page.goto("data:text/html,<!doctype html><title>-</title><p>Warming up.</p>");
    await page.close();
  } finally {
    await browser.disconnect();
  }
}
try {
  await warmUp();
  for (const [i, url] of urls.entries()) {
    let result = await run(url);
    // On a busy machine the trace of a load now and then misses its start (NO_NAVSTART):
    // Lighthouse itself says to run it again.
    if (result.lhr.runtimeError) result = await run(url);
    writeFileSync(join(outDir, `${i}.json`), result.report);
  }
} finally {
  await chrome.kill();
}
