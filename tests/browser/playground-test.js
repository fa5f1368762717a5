// Drive the Microsoft 365 Agents Playground (connected to the bot) in Debian's Chromium:
// see the welcome card, ask a question and see the answer card, press a card button.
// usage: node playground-test.js <playground-url> <screenshot-dir>
const { launch, openPage, timeout } = require('./playground-common');
const path = require('path');

const [url, shots] = process.argv.slice(2);

(async () => {
  const browser = await launch();
  let ok = false;
  const page = await openPage(browser, url, 1280, 1000);
  try {
    await page.goto(url);
    // 1. The welcome card arrives on install (conversationUpdate/installationUpdate).
    await page.getByText('Hej! Jag är Samverkansboten').first().waitFor({ timeout });
    await page.screenshot({ path: path.join(shots, '1-welcome.png') });

    // 2. A question in the staff's own words gets an answer card: the short answer, and its
    // sources behind "Visa mer".
    const box = page.locator('[data-lexical-editor="true"][role="textbox"]').first();
    await box.click();
    await page.keyboard.type('kan jag va anonym när jag anmäler?');
    await page.keyboard.press('Enter');
    await page.getByText('Kan jag anmäla anonymt – och får vårdnadshavarna läsa anmälan?').first().waitFor({ timeout });
    await page.getByRole('button', { name: 'Visa mer', exact: true }).last().click();
    await page.getByText(/Gäller enligt/).first().waitFor({ timeout });
    await page.screenshot({ path: path.join(shots, '2-answer.png') });

    // 3. Pressing a card button starts the guided dialog: acute danger is asked first.
    await page.getByRole('button', { name: 'Jag är orolig för ett barn' }).last().click();
    await page.getByText('Är barnet i akut fara just nu?').first().waitFor({ timeout });
    await page.screenshot({ path: path.join(shots, '3-concern.png') });

    // 4. "Ja" to acute danger shows the emergency card at once; ending there gives the outcome.
    await page.getByRole('button', { name: 'Ja', exact: true }).last().click();
    await page.getByText('Ring 112 nu.').first().waitFor({ timeout });
    await page.getByRole('button', { name: 'Avsluta här' }).last().click();
    await page.getByText('Ring 112 nu – och anmäl sedan genast').first().waitFor({ timeout });
    await page.screenshot({ path: path.join(shots, '4-emergency.png') });
    ok = true;
  } catch (err) {
    console.error(String(err && err.message ? err.message : err));
    await page.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
  } finally {
    await browser.close();
  }
  process.exit(ok ? 0 : 1);
})();
