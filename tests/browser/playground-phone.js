// Issue 16: what a teacher sees on a phone. The Agents Playground at 400 px width: the welcome,
// an answer (short first, "Visa mer" opens the law and the sources), the concern outcome
// (report), the report draft and the contact card. Each is kept as a screenshot; the page must
// not scroll sideways and no card may be taller than 1,400 px before "Visa mer" is pressed.
// usage: node playground-phone.js <playground-url> <screenshot-dir>
const {
  launch, openPage, say, settled, showChat, timeout,
} = require('./playground-common');
const path = require('path');

const [url, shots] = process.argv.slice(2);
const WIDTH = 400;
const MAX_CARD_HEIGHT = 1400;
const CARD_WIDTH = 360; // a 400 px phone less Teams' margins
let current = null;
const problems = [];

async function press(page, name) {
  await page.getByRole('button', { name, exact: true }).last().click();
}

async function see(page, text) {
  await page.getByText(text).last().waitFor({ timeout });
}

// The rendered Adaptive Cards (the Playground renders them with the adaptivecards library).
async function measure(page, label, expanded = false) {
  const found = await page.evaluate(() => {
    const doc = document.documentElement;
    const cards = [...document.querySelectorAll('.ac-adaptiveCard')];
    return cards.map((el) => {
      const r = el.getBoundingClientRect();
      // Anything inside the card wider than the card (a long word, a link, a row of buttons).
      let overflow = el.scrollWidth - el.clientWidth;
      for (const child of el.querySelectorAll('*')) {
        const c = child.getBoundingClientRect();
        if (c.width > 0) overflow = Math.max(overflow, Math.round(c.right - r.right));
      }
      return { height: Math.round(r.height), width: Math.round(r.width), overflow, text: el.innerText.slice(0, 60) };
    });
  });
  for (const card of found) {
    // The height bar holds before "Visa mer"; an expanded card may be as long as its details.
    if (!expanded && card.height > MAX_CARD_HEIGHT) problems.push(`${label}: a card ${card.height} px tall: ${card.text}`);
    if (card.overflow > 1) problems.push(`${label}: ${card.overflow} px wider than the card: ${card.text}`);
  }
  console.log(`${label}: ${found.length} cards, width ${Math.max(0, ...found.map((c) => c.width))} px, tallest ${Math.max(0, ...found.map((c) => c.height))} px, overflow ${Math.max(0, ...found.map((c) => c.overflow))} px`);
}

// The screen as it is; with `text`, the card that shows it, whole (however tall).
async function shot(page, name, text, expanded = false) {
  await settled(page);
  await measure(page, name, expanded);
  if (text) {
    const card = page.locator('.ac-adaptiveCard').filter({ hasText: text }).last();
    await card.scrollIntoViewIfNeeded();
    await card.screenshot({ path: path.join(shots, name) });
  } else {
    await page.screenshot({ path: path.join(shots, name), fullPage: false });
  }
}

async function fresh(browser) {
  const page = await openPage(browser, url, WIDTH, 900);
  current = page;
  await showChat(page, url);
  // The Playground is a desktop page: its chat column does not shrink to a phone. Render every
  // card at the width Teams gives it on a phone, and keep the latest one in view.
  await page.addStyleTag({ content: `.ac-adaptiveCard { max-width: ${CARD_WIDTH}px !important; }` });
  return page;
}

(async () => {
  const browser = await launch();
  let ok = false;
  try {
    const page = await fresh(browser);
    await see(page, 'Hej! Jag är Samverkansboten');
    await shot(page, '16-1-welcome.png', 'Hej! Jag är Samverkansboten');

    // An answer: the short answer first; "Visa mer" shows the law and the sources.
    await say(page, 'Måste jag berätta för föräldrarna att jag anmäler?');
    await see(page, 'Du behöver inte berätta för vårdnadshavarna innan du anmäler');
    await shot(page, '16-2-answer.png', 'Du behöver inte berätta för vårdnadshavarna innan du anmäler');
    await press(page, 'Visa mer');
    await see(page, /Offentlighets- och sekretesslagen 12 kap. 3 §/);
    await shot(page, '16-2b-answer-more.png', 'Du behöver inte berätta för vårdnadshavarna innan du anmäler', true);
    await press(page, 'Visa mindre');

    // The concern dialog to its outcome (report).
    await say(page, 'Jag är orolig för ett barn');
    await see(page, 'Är barnet i akut fara just nu?');
    await press(page, 'Nej');
    await see(page, 'Vad gäller oron?');
    await press(page, 'Våld från vuxen utanför hemmet');
    await see(page, 'Finns det också oro för våld, övergrepp eller hedersförtryck i barnets hem?');
    await press(page, 'Nej');
    await see(page, 'Har barnet självt berättat');
    await press(page, 'Ja');
    await see(page, 'Vilken skola eller förskola arbetar du på?');
    await say(page, 'Engelbrektsskolan');
    await see(page, 'I vilken kommun eller stadsdel bor barnet?');
    // The child lives in another district than the school: two districts on the contact card.
    await say(page, 'Norrmalm');
    await see(page, 'Gör en orosanmälan i dag');
    await shot(page, '16-3-concern-outcome.png', 'Gör en orosanmälan i dag');

    // The contact card comes with the outcome: the child's district first; the school's contact
    // person and the notes behind "Fler kontakter och råd".
    await see(page, 'Mottagningen barn och unga Norrmalm');
    await shot(page, '16-5-contact.png', 'Mottagningen barn och unga Norrmalm');
    await press(page, 'Fler kontakter och råd');
    await see(page, 'Att tänka på');
    await shot(page, '16-5b-contact-more.png', 'Mottagningen barn och unga Norrmalm', true);
    await press(page, 'Visa mindre');

    // The report draft: every question answered by typing in the chat, as on a phone.
    await press(page, 'Skriv orosanmälan');
    for (let i = 0; i < 14; i++) {
      if (await page.getByText('Ditt underlag till orosanmälan är klart').count()) break;
      const before = await page.locator('.ac-adaptiveCard').count();
      const asked = await page.getByText('Har vårdnadshavarna fått veta om din oro').count();
      const answered = await page.getByText('Varför har vårdnadshavarna inte fått veta?').count();
      await say(page, asked && !answered ? 'nej' : 'Eleven sa i dag att hon är rädd att gå hem.');
      await page.waitForFunction(
        (n) => document.querySelectorAll('.ac-adaptiveCard').length > n, before, { timeout });
    }
    await see(page, 'Ditt underlag till orosanmälan är klart');
    await shot(page, '16-4a-draft-card.png', 'Ditt underlag till orosanmälan är klart');
    await page.getByText('Orosanmälan – underlag').last().scrollIntoViewIfNeeded();
    await shot(page, '16-4-draft.png');
    ok = problems.length === 0;
    for (const p of problems) console.error(p);
  } catch (err) {
    console.error(String(err && err.message ? err.message : err));
    if (current) await current.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
  } finally {
    await browser.close();
  }
  process.exit(ok ? 0 : 1);
})();
