// Issue 12's safe paths in the Microsoft 365 Agents Playground at phone width (400 px), as a
// worried teacher would go: each case is typed or clicked in a fresh conversation and its card is
// kept as a screenshot to look at.
// usage: node playground-safety.js <playground-url> <screenshot-dir>
const {
  launch, mark, openPage, say, settled, showChat, timeout, unmarked,
} = require('./playground-common');
const path = require('path');

const [url, shots] = process.argv.slice(2);
let current = null; // the page in use, for the failure screenshot

// One page for every case: a case starts with "avbryt" in the same conversation, as a teacher
// would (the Playground keeps one conversation however often the page is opened, and opening it
// again cost 2-3 s of Chromium per case). `see` waits for a new message, never an older one.
let opened = null;
async function fresh(browser) {
  if (!opened) {
    opened = await openPage(browser, url, 520, 1400);
    current = opened;
    await showChat(opened, url);
  }
  await say(opened, 'avbryt');
  await see(opened, /avbrutit|ingen dialog att avbryta/);
  await passOver(opened);
  return opened;
}

// The newest button of that name that no earlier press passed over: every button on the page
// is marked before the click (the reply cannot come before it), so a press never falls on a
// button of an earlier card while the new card is still being drawn.
async function press(page, name) {
  const button = page.getByRole('button', { name, exact: true }).and(page.locator(':not([data-seen])')).last();
  const chosen = await button.elementHandle({ timeout }); // fixed now: the locator would move on
  await passOver(page);
  await chosen.click({ timeout });
}

// Every button now on the page is one a later press must not take.
async function passOver(page) {
  await page.getByRole('button').evaluateAll((all) => all.forEach((e) => e.setAttribute('data-seen', '')));
}

// A message `see` has waited for is marked; the next `see` waits for an unmarked one, so a
// message of an earlier case on the same page does not count. (Counting does not work: the
// Playground keeps only the messages near the bottom of the chat in the page.)
async function see(page, text) {
  await unmarked(page, text);
  await mark(page, text);
}

async function shot(page, name) {
  await settled(page);
  await page.screenshot({ path: path.join(shots, name), fullPage: false });
}

(async () => {
  const browser = await launch();
  let ok = false;
  let page;
  try {
    // Found 1: violence from an adult outside the home, the child told → report, not "konsultera".
    page = await fresh(browser);
    await say(page, 'Jag är orolig för ett barn');
    await see(page, 'Är barnet i akut fara just nu?');
    await press(page, 'Nej');
    await see(page, 'Vad gäller oron?');
    await shot(page, '12-1a-about.png');
    await press(page, 'Våld från vuxen utanför hemmet');
    await see(page, 'Finns det också oro för våld, övergrepp eller hedersförtryck i barnets hem?');
    await press(page, 'Nej');
    await see(page, 'Har barnet självt berättat');
    await press(page, 'Ja');
    await see(page, 'Vilken skola eller förskola arbetar du på?');
    await say(page, 'hoppa över');
    await see(page, 'I vilken kommun eller stadsdel bor barnet?');
    await say(page, 'vet inte');
    await see(page, 'Gör en orosanmälan i dag');
    await shot(page, '12-1b-outside-home-report.png');

    // Found 4: "Vet inte" on acute danger, violence from a parent, the child told → phone today.
    page = await fresh(browser);
    await say(page, 'Jag är orolig för ett barn');
    await see(page, 'Är barnet i akut fara just nu?');
    await press(page, 'Vet inte');
    await see(page, 'Kan barnet vara i fara? Ring 112.');
    await press(page, 'Våld eller hot från vuxen i hemmet');
    await see(page, 'Har barnet självt berättat');
    await press(page, 'Ja');
    await see(page, 'Vilken skola eller förskola arbetar du på?');
    await say(page, 'hoppa över');
    await see(page, 'I vilken kommun eller stadsdel bor barnet?');
    await say(page, 'vet inte');
    await see(page, 'Ring socialtjänsten i dag – innan barnet går hem');
    await see(page, 'Kan barnet vara i fara nu? Ring 112.');
    await shot(page, '12-4-phone-today.png');

    // Found 5: described harm that search may not place is never declined.
    page = await fresh(browser);
    await say(page, 'Eleven har könsstympats under sommarlovet');
    await see(page, 'Är barnet i fara just nu? Ring 112.');
    await shot(page, '12-5a-fgm.png');
    await say(page, 'one of my students told me his mom hits him with a belt. what should i do?');
    await see(page, 'Det du beskriver kan betyda att barnet far illa');
    await shot(page, '12-5b-english.png');

    // Found 6: natural words start or offer the concern dialog.
    page = await fresh(browser);
    await say(page, 'eleven säger att pappa slår henne');
    await see(page, 'Det du beskriver kan betyda att barnet far illa');
    await shot(page, '12-6a-disclosure.png');
    await say(page, 'jag är orolig för en elev');
    await see(page, 'Är barnet i akut fara just nu?');
    await shot(page, '12-6b-worry-starts-dialog.png');
    ok = true;
  } catch (err) {
    console.error(String(err && err.message ? err.message : err));
    if (current) await current.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
  } finally {
    await browser.close();
  }
  process.exit(ok ? 0 : 1);
})();
