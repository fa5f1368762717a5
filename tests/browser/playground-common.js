// What the Playground scripts share: Debian's Chromium, a page without animations, typing in the
// chat, and waiting for the newest card to finish its layout (not a fixed pause before each
// screenshot).
const { chromium } = require('playwright-core');

const timeout = 30000;

function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A page of the given size that asks for reduced motion, as a user can in the system settings,
// and has no CSS transitions or animations: the same cards and layout, without frames of
// software rendering (no GPU here) before each is still.
const NO_MOTION = '*, *::before, *::after { transition: none !important; '
  + 'animation: none !important; scroll-behavior: auto !important; }';

async function openPage(browser, width, height) {
  const page = await browser.newPage({ viewport: { width, height }, reducedMotion: 'reduce' });
  await page.addInitScript((css) => {
    document.addEventListener('DOMContentLoaded', () => {
      const style = document.createElement('style');
      style.textContent = css;
      document.head.appendChild(style);
    });
  }, NO_MOTION);
  return page;
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

module.exports = { launch, openPage, say, settled, timeout };
