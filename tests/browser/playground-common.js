// What the Playground scripts share: Debian's Chromium, a page without animations, typing in the
// chat, and waiting for the newest card to finish its layout (not a fixed pause before each
// screenshot).
const { chromium } = require('playwright-core');

const timeout = 30000;

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Chromium. With PLAYGROUND_PROFILE (a folder per test process, given by test_playground.py) it
// keeps its HTTP and compiled-code caches there between runs: from the third load of the
// Playground on, its 10 MB of JavaScript is not compiled again (about 1.5 s of CPU and 1.3 s of
// waiting less per page). Cookies and the site's storage are cleared for each page (openPage).
async function launch() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  const profile = process.env.PLAYGROUND_PROFILE;
  if (profile) {
    try {
      return await chromium.launchPersistentContext(profile, { executablePath, args: ARGS });
    } catch (err) { // e.g. the folder is in use by another run: without the cache, then
      console.error(`no cached profile (${String(err && err.message).split('\n')[0]})`);
    }
  }
  return chromium.launch({ executablePath, args: ARGS });
}

// A page of the given size (from a browser or a persistent context) that asks for reduced
// motion, as a user can in the system settings, and has no CSS transitions or animations: the
// same cards and layout, without frames of software rendering (no GPU here) before each is
// still. Nothing the site stored in an earlier run is left for it (only the caches are kept).
const NO_MOTION = '*, *::before, *::after { transition: none !important; '
  + 'animation: none !important; scroll-behavior: auto !important; }';

async function openPage(browser, url, width, height) {
  const page = await browser.newPage();
  await page.context().clearCookies();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.clearDataForOrigin', {
    origin: new URL(url).origin,
    storageTypes: 'local_storage,indexeddb,websql,service_workers,cache_storage,file_systems',
  });
  await cdp.detach();
  await page.setViewportSize({ width, height });
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.addInitScript((css) => {
    document.addEventListener('DOMContentLoaded', () => {
      const style = document.createElement('style');
      style.textContent = css;
      document.head.appendChild(style);
    });
  }, NO_MOTION);
  return page;
}

// The Playground opened in `page`, ready to type in, with its log panel hidden (at phone width it
// covers the chat).
async function showChat(page, url) {
  await page.goto(url);
  await page.locator('[data-lexical-editor="true"][role="textbox"]').first().waitFor({ timeout });
  const hide = page.locator('button[title="Hide log panel"]');
  if (await hide.isVisible().catch(() => false)) await hide.click();
}

// A message typed in the chat box and sent; pasted in one go (playground-test.js types one key
// at a time): keystrokes cost time, not coverage.
async function say(page, text) {
  const box = page.locator('[data-lexical-editor="true"][role="textbox"]').first();
  await box.click();
  await page.keyboard.insertText(text);
  await page.keyboard.press('Enter');
}

// The newest card has finished its layout and the chat its scrolling: the card's box (and how
// many cards there are) stays the same over three animation frames in a row.
async function settled(page) {
  await page.evaluate(() => new Promise((resolve) => {
    let last = '';
    let same = 0;
    const step = () => {
      const cards = document.querySelectorAll('.ac-adaptiveCard');
      const card = cards[cards.length - 1];
      const r = card ? card.getBoundingClientRect() : { top: 0, height: 0, width: 0 };
      const now = [cards.length, r.top, r.height, r.width].map(Math.round).join(':');
      same = now === last ? same + 1 : 0;
      last = now;
      if (same >= 3) resolve(); else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }));
}

// Every element now on the page that shows `text` is marked, so that `unmarked` waits for a new
// one: a message that comes later, even where an earlier message says the same.
async function mark(page, text) {
  await page.getByText(text).evaluateAll((found) => found.forEach((e) => e.setAttribute('data-seen', '')));
}

async function unmarked(page, text) {
  await page.getByText(text).and(page.locator(':not([data-seen])')).last().waitFor({ timeout });
}

module.exports = {
  launch, mark, openPage, say, settled, showChat, timeout, unmarked,
};
