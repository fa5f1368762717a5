// One kommun profile in the Microsoft 365 Agents Playground, as a new user meets it: the welcome
// card names the kommun, an answer shows "I <kommun>:" with its routine and forum names, the
// contact card shows the kommun's (example) contact, and the forum list shows its forums.
// usage: node playground-kommun.js <playground-url> <screenshot-dir> '<json>'
//   json: {"id", "name", "short", "school", "contact", "forum"}
const {
  launch, mark, openPage, say, settled, timeout, unmarked,
} = require('./playground-common');
const path = require('path');

const [url, shots, json] = process.argv.slice(2);
const k = JSON.parse(json);

(async () => {
  const browser = await launch();
  let ok = false;
  const page = await openPage(browser, url, 1280, 1400);
  const shot = async (name) => page.screenshot({ path: path.join(shots, `${k.id}-${name}.png`) });
  try {
    await page.goto(url);
    await page.getByText('Hej! Jag är Samverkansboten').first().waitFor({ timeout });
    await page.getByText(`Lokala rutiner: ${k.name}`).first().waitFor({ timeout });
    await shot('1-welcome');

    await say(page, 'Vilka samverkansforum finns mellan skolan och socialtjänsten?');
    const head = page.getByText(`I ${k.short}:`, { exact: true }).last();
    await head.waitFor({ timeout });
    await page.getByText(k.forum).last().waitFor({ timeout });
    await head.scrollIntoViewIfNeeded();
    await shot('2-answer-local-routine');

    await page.getByRole('button', { name: 'Vem ska jag kontakta?' }).last().click();
    await page.getByRole('button', { name: 'En konsultation – jag vill rådfråga' }).last().click();
    await page.getByText('Vilken skola eller förskola arbetar du på?').last().waitFor({ timeout });
    await say(page, k.school);
    await page.getByText(k.contact).last().waitFor({ timeout });
    await page.getByText(k.contact).last().scrollIntoViewIfNeeded();
    await shot('3-contact');

    // The welcome card asks "Vad vill du göra?" too, and the answer above names the forum: what
    // is on the page is marked first, and each step waits for a new one (by count it could not:
    // the Playground drops older messages from the page).
    await mark(page, 'Vad vill du göra?');
    await say(page, 'meny');
    await unmarked(page, 'Vad vill du göra?');
    await settled(page);
    await mark(page, k.forum);
    await page.getByRole('button', { name: 'Samverkansmöten' }).last().click();
    await unmarked(page, k.forum);
    await page.getByText(k.forum).last().scrollIntoViewIfNeeded();
    await shot('4-forums');
    ok = true;
  } catch (err) {
    console.error(String(err && err.message ? err.message : err));
    await page.screenshot({ path: path.join(shots, `${k.id}-failure.png`) }).catch(() => {});
  } finally {
    await browser.close();
  }
  process.exit(ok ? 0 : 1);
})();
