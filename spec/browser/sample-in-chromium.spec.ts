import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { createApp } from '../../sample/src/app';
import { demoAccount } from '../../sample/src/users';
import { quietLogger, temporaryDirectory, testSecret } from '../helpers/stores';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const noChromium = existsSync(chromiumPath)
  ? false
  : `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (noChromium) console.log(`# the browser spec is skipped: ${noChromium}`);

/** Where the README's screenshot of the sample page goes, when UPDATE_SCREENSHOT=1. */
const screenshotPath = join(__dirname, '..', '..', '..', 'docs', 'sample-page.png');

describe('the sample app in Chromium', { skip: noChromium }, () => {
  let browser: Browser;
  let appUrl: string;
  let otherSiteUrl: string;
  let closeOtherSite: (() => Promise<void>) | undefined;
  let closeApp: (() => Promise<void>) | undefined;

  before(async () => {
    const app = createApp({
      secret: testSecret,
      logger: quietLogger,
      file: { directory: temporaryDirectory('browser') },
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closeApp = () => new Promise<void>((resolve) => server.close(() => resolve()));
    appUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    // Another site: localhost and 127.0.0.1 are different sites to a browser.
    const otherSite = createServer((_request, response) => {
      response.setHeader('Content-Type', 'text/html');
      response.end(
        `<form id="attack" method="post" action="${appUrl}/cart"><input name="item" value="planted"></form>` +
          `<script>document.getElementById('attack').submit()</script>`,
      );
    });
    await new Promise<void>((resolve) => otherSite.listen(0, '127.0.0.1', resolve));
    closeOtherSite = () => new Promise<void>((resolve) => otherSite.close(() => resolve()));
    otherSiteUrl = `http://localhost:${(otherSite.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await closeOtherSite?.();
    await closeApp?.();
  });

  async function signIn(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await page.goto(appUrl);
    await page.fill('input[name=username]', demoAccount.username);
    await page.fill('input[name=password]', demoAccount.password);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('#signed-in');
    return page;
  }

  async function addToCart(page: Page, item: string): Promise<void> {
    await page.fill('input[name=item]', item);
    await page.click('button:has-text("Add to cart")');
    await page.waitForLoadState();
  }

  const cartOf = (page: Page) => page.locator('#cart li').allTextContents();

  it('signs in, stays signed in across a reload, and keeps the cart across a reload and a second tab', async () => {
    const context = await browser.newContext();
    after(() => context.close());
    const page = await signIn(context);
    assert.match((await page.textContent('#messages .flash.info')) ?? '', /Welcome back, Sharon!/);
    await addToCart(page, 'apples');
    await addToCart(page, 'pears');
    await page.reload();
    assert.equal(await page.textContent('#user-name'), 'Sharon');
    assert.deepEqual(await cartOf(page), ['apples', 'pears']);
    const secondTab = await context.newPage();
    await secondTab.goto(appUrl);
    assert.deepEqual(await cartOf(secondTab), ['apples', 'pears']);
    if (process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(dirname(screenshotPath), { recursive: true });
      await page.setViewportSize({ width: 760, height: 720 });
      await page.screenshot({ path: screenshotPath, fullPage: true });
    }
  });

  it('keeps the session cookie out of document.cookie (HttpOnly)', async () => {
    const context = await browser.newContext();
    after(() => context.close());
    const page = await signIn(context);
    const cookies = await context.cookies(appUrl);
    assert.ok(
      cookies.some((cookie) => cookie.name === 'sid' && cookie.httpOnly),
      'the browser holds it',
    );
    assert.doesNotMatch(await page.evaluate<string>('document.cookie'), /sid=/);
  });

  it('shows a failed sign-in as an error, in another colour than a success', async () => {
    const context = await browser.newContext();
    after(() => context.close());
    const page = await context.newPage();
    await page.goto(appUrl);
    await page.fill('input[name=username]', demoAccount.username);
    await page.fill('input[name=password]', 'wrong');
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('#messages .flash');
    const refused = page.locator('#messages .flash');
    assert.equal(await refused.getAttribute('class'), 'flash error');
    assert.equal(await refused.getAttribute('role'), 'alert');
    assert.equal(await refused.textContent(), 'Wrong username or password.');
    const background = (selector: string) =>
      page.evaluate<string>(`getComputedStyle(document.querySelector('${selector}')).backgroundColor`);
    const errorBackground = await background('#messages .flash.error');
    await page.fill('input[name=username]', demoAccount.username);
    await page.fill('input[name=password]', demoAccount.password);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('#signed-in');
    assert.notEqual(await background('#messages .flash.info'), errorBackground, 'not the green of a success');
  });

  it('fits a phone screen: the viewport meta makes the layout as wide as the device', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 700 }, isMobile: true });
    after(() => phone.close());
    const page = await phone.newPage();
    await page.goto(appUrl);
    assert.equal(
      await page.locator('meta[name=viewport]').getAttribute('content'),
      'width=device-width, initial-scale=1',
    );
    assert.equal(await page.evaluate<number>('document.documentElement.clientWidth'), 375, 'not 980');
  });

  it('lists each session by browser and OS and when it was last used', async () => {
    const context = await browser.newContext();
    after(() => context.close());
    const page = await signIn(context);
    const entry = await page.locator('#sessions li:has-text("(this device)")').innerText();
    assert.match(entry, /^Chrome on Linux \(this device\)\n/, 'Chromium on Linux, not its User-Agent');
    assert.match(entry, /last used (just now|\d+ seconds? ago|1 minute ago)/);
    assert.match(
      (await page.locator('#sessions li:has-text("(this device)") .device').getAttribute('title')) ?? '',
      /Mozilla\/5\.0/,
      'the full User-Agent on hover',
    );
  });

  it('"sign out my other devices" signs out the second browser on its next load; the first stays in', async () => {
    const laptop = await browser.newContext();
    const phone = await browser.newContext();
    after(() => Promise.all([laptop.close(), phone.close()]));
    const laptopPage = await signIn(laptop);
    const phonePage = await signIn(phone);
    await laptopPage.reload();
    const listed = await laptopPage.locator('#sessions li').count();
    assert.ok(listed >= 2, `both devices are listed (${listed} sessions of this user)`);
    await laptopPage.click('button:has-text("Sign out my other devices")');
    await laptopPage.waitForLoadState();
    assert.match((await laptopPage.textContent('#messages')) ?? '', /Signed out \d+ other device/);
    assert.equal(await laptopPage.locator('#sessions li').count(), 1, 'only this device is left');
    await phonePage.reload();
    assert.equal(await phonePage.locator('#signed-in').count(), 0, 'the phone is signed out');
    assert.equal(await phonePage.locator('input[name=username]').count(), 1);
    assert.equal(
      await phonePage.textContent('#messages .flash.warning'),
      'You were signed out from another device.',
      'and is told why',
    );
    await phonePage.reload();
    assert.equal(await phonePage.locator('#messages .flash').count(), 0, 'once');
    await laptopPage.reload();
    assert.equal(await laptopPage.textContent('#user-name'), 'Sharon', 'the laptop stays in');
  });

  it('does not send the session cookie with a form another site posts to the cart (SameSite=Lax)', async () => {
    const context = await browser.newContext();
    after(() => context.close());
    const page = await signIn(context);
    await addToCart(page, 'bread');
    const attacker = await context.newPage();
    await attacker.goto(otherSiteUrl);
    await attacker.waitForURL(`${appUrl}/`);
    await page.reload();
    assert.deepEqual(await cartOf(page), ['bread'], 'nothing was added');
  });

  it('signs out of this device: a reload shows the sign-in form, and the old cookie no longer works when replayed', async () => {
    const context = await browser.newContext();
    after(() => context.close());
    const page = await signIn(context);
    const [oldCookie] = (await context.cookies(appUrl)).filter((cookie) => cookie.name === 'sid');
    assert.equal(await page.locator('button:text-is("Sign out")').count(), 0, 'named apart from the other');
    await page.click('button:text-is("Sign out of this device")');
    await page.waitForLoadState();
    assert.equal(await page.textContent('#messages'), 'You are signed out.', 'and not "from another device"');
    await page.reload();
    assert.equal(await page.locator('input[name=username]').count(), 1);
    const replay = await browser.newContext();
    after(() => replay.close());
    await replay.addCookies([oldCookie!]);
    const replayed = await replay.newPage();
    await replayed.goto(appUrl);
    assert.equal(await replayed.locator('#signed-in').count(), 0, 'the replayed cookie is not signed in');
  });
});
