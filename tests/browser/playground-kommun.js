// One kommun profile in the Microsoft 365 Agents Playground, as a new user meets it: the welcome
// card names the kommun, an answer shows "I <kommun>:" with its routine and forum names, the
// contact card shows the kommun's (example) contact, and the forum list shows its forums.
// usage: node playground-kommun.js <playground-url> <screenshot-dir> '<json>'
//   json: {"id", "name", "short", "school", "contact", "forum"}
const { launch, openPage, say, timeout } = require('./playground-common');
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

    await say(page, 'meny');
    await page.getByText('Vad vill du göra?').last().waitFor({ timeout });
    // The answer above names the forum too: wait for one more mention, in the forum list.
    const before = await page.getByText(k.forum).count();
    await page.getByRole('button', { name: 'Samverkansmöten' }).last().click();
    await page.getByText(k.forum).nth(before).waitFor({ timeout });
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
