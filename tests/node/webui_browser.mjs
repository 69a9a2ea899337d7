// The web page of gpt2 serve in a real browser (tests/cli/serve_webui_browser.sh): Debian's
// chromium, headless, driven by puppeteer-core (pinned in package.json). Every request the page
// makes is intercepted: one that leaves the server's own origin fails the test.
//   node webui_browser.mjs URL KEY EXPECT.json [SCREENSHOT_DIR]
// EXPECT.json (written by the shell test from the CLI): {prompt, seed, max_tokens, text, ids,
// logprobs, survivors: {"K": n, ...}}. With SCREENSHOT_DIR, a PNG of each view goes there
// (docs/img/).
import fs from "node:fs";
import puppeteer from "puppeteer-core";

const [url, key, expectFile, shots] = process.argv.slice(2);
const want = JSON.parse(fs.readFileSync(expectFile, "utf8"));
const origin = new URL(url).origin;
const t00 = Date.now(); const lap = (s) => process.env.WEBUI_TIMES && console.error(s, Date.now() - t00);
const fail = (msg) => { console.error("FAIL: " + msg); process.exitCode = 1; throw new Error(msg); };
const check = (cond, msg) => { if (!cond) fail(msg); };

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 800 });
  const outside = [];
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    const u = r.url();
    if (u.startsWith(origin + "/") || u === origin) r.continue();
    else { outside.push(u); r.abort(); }
  });
  const dialogs = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));

  // A value into an input (range or number), as a user's drag or typing would fire it.
  const setValue = (sel, v) => page.$eval(sel, (e, v) => {
    e.value = String(v);
    e.dispatchEvent(new Event("input", { bubbles: true }));
    e.dispatchEvent(new Event("change", { bubbles: true }));
  }, v);
  const setPrompt = async (text) => {
    await page.$eval("#prompt", (e) => { e.value = ""; });
    await page.type("#prompt", text, { delay: 0 });
  };
  const generate = async () => {
    await page.click("#generate");
    await page.waitForFunction(() => !document.querySelector("#generate").disabled &&
      document.querySelector("#gen-stats").textContent !== "" || document.querySelector("#error").textContent !== "",
      { timeout: 10000 });
    const err = await page.$eval("#error", (e) => e.textContent);
    check(err === "", "generation failed on the page: " + err);
  };

  lap('// 1. The ke');
  // 1. The key: the page asks once (the first call gets 401), then every call carries it.
  await page.goto(url + "/", { waitUntil: "load" });
  await page.waitForSelector("#key-dialog:not([hidden])", { timeout: 5000 });
  await page.type("#api-key", key);
  await page.click("#api-key-save");
  await page.waitForFunction(() => /tokens · context/.test(document.querySelector("#model-id").textContent), { timeout: 5000 });

  lap('// 2. Genera');
  // 2. Generate: same tokens and log-probabilities as `gpt2 generate` with the same settings.
  await setPrompt(want.prompt);
  await setValue("#seed", want.seed);
  await setValue("#temperature", 0.7);
  await setValue("#top-k", 40);
  await setValue("#top-p", 1);
  await setValue("#min-p", 0);
  await setValue("#max-tokens", want.max_tokens);
  await generate();
  const toks = await page.$$eval("#output span.token", (s) => s.map((e) => ({ id: +e.dataset.id, lp: +e.dataset.logprob })));
  check(toks.length === want.ids.length, `${toks.length} span.token, want ${want.ids.length}`);
  toks.forEach((t, i) => {
    check(t.id === want.ids[i], `token ${i}: data-id ${t.id}, gpt2 generate drew ${want.ids[i]}`);
    check(Math.abs(t.lp - want.logprobs[i]) < 1e-6, `token ${i}: data-logprob ${t.lp}, gpt2 generate ${want.logprobs[i]}`);
  });
  const text = await page.$eval("#output", (o) => o.textContent);
  check(text === want.text, `streamed text ${JSON.stringify(text)} != gpt2 generate's ${JSON.stringify(want.text)}`);

  // Hover a token: its alternatives (top_logprobs), the chosen one among them when it is likely.
  // (a token with visible text: a lone newline has no box to hover)
  const spans = await page.$$("#output span.token");
  const visibleAt = (await page.$$eval("#output span.token", (s) => s.map((e) => e.textContent.trim() !== ""))).indexOf(true);
  check(visibleAt >= 0, "no token with visible text to hover");
  await spans[visibleAt].hover();
  await page.waitForSelector("#alternatives:not([hidden])", { timeout: 2000 });
  const alts = await page.$$eval("#alternatives tr", (r) => r.map((e) => e.textContent));
  check(alts.length === 5, `hover shows ${alts.length} alternatives, want 5`);
  // Keyboard focus shows them too.
  await page.mouse.move(5, 5);
  await page.waitForSelector("#alternatives[hidden]", { timeout: 2000 });
  await page.focus("#output span.token");
  await page.waitForSelector("#alternatives:not([hidden])", { timeout: 2000 });
  if (shots) await page.screenshot({ path: shots + "/webui-generate.png" });

  lap('// 3. Next t');
  // 3. Next token: #survivors follows #top-k, as inspect-logits --filters top_k=K counts.
  // The first K while the Generate view is shown (#survivors follows the settings in any view).
  let shown = false;
  for (const [k, n] of Object.entries(want.survivors)) {
    await setValue("#top-k", k);
    await page.waitForFunction((n) => { const s = document.querySelector("#survivors");
      return !s.dataset.pending && s.textContent.startsWith(n + " token"); },
      { timeout: 5000 }, n).catch(async () => {
      fail(`top-k ${k}: #survivors says "${await page.$eval("#survivors", (e) => e.textContent)}", inspect-logits ${n}`);
    });
    if (!shown) await page.click("#tab-next");
    shown = true;
  }
  const kept = await page.$$eval("#chart .bar-row:not(.dropped)", (r) => r.length);
  const lastK = +Object.keys(want.survivors).at(-1);
  check(kept === Math.min(lastK, 30), `the chart marks ${kept} rows as surviving, want ${Math.min(lastK, 30)}`);
  if (shots) {
    await setValue("#top-k", 20);
    await setValue("#top-p", 0.7);
    await page.waitForFunction(() => !document.querySelector("#survivors").dataset.pending, { timeout: 5000 });
    await page.screenshot({ path: shots + "/webui-next-token.png" });
  }

  lap('// 4. Tokens');
  // 4. Tokens: the pieces put together are the text; ids alternate colours.
  const hostile = 'Hi <img src=x onerror="window.__xss=1"><script>window.__xss=2</script> & <b>bold</b>';
  const pieces = (t) => page.waitForFunction((t) => [...document.querySelectorAll("#token-list span.t")].map((s) => s.textContent).join("") === t,
    { timeout: 5000 }, t);
  await page.click("#tab-tokens");
  await pieces(want.prompt);
  if (shots) await page.screenshot({ path: shots + "/webui-tokens.png" });
  await setPrompt(hostile);
  await pieces(hostile);
  const classes = await page.$$eval("#token-list span.t", (s) => s.map((e) => e.className));
  check(classes.length > 5 && classes.every((c, i) => c === "t " + (i % 2 ? "b" : "a")), "tokens are not alternately coloured");

  lap('// 5. Model ');
  // 5. Model text is text: the hostile prompt is shown, never run, in every view.
  await page.click("#tab-generate");
  await setValue("#max-tokens", 3);
  await generate();
  const echo = await page.$eval("#output-prompt", (e) => e.textContent);
  check(echo === hostile, "the prompt is not shown as typed: " + echo);
  const injected = await page.evaluate(() => ({
    xss: window.__xss,
    imgs: document.querySelectorAll("main img, #output img, #token-list img").length,
    bold: document.querySelectorAll("#output b, #token-list b").length,
  }));
  check(injected.xss === undefined && injected.imgs === 0 && injected.bold === 0,
    "the prompt's markup became HTML: " + JSON.stringify(injected));

  lap('// 6. Chat');
  // 6. Chat: a streamed reply appears.
  await page.click("#tab-chat");
  await setValue("#max-tokens", 6);
  await page.type("#chat-input", "Hello <script>window.__xss=3</script>");
  await page.click("#chat-send");
  await page.waitForFunction(() => {
    const a = document.querySelector("#chat-log .assistant");
    return a && a.textContent.length > 0 && !document.querySelector("#chat-send").disabled;
  }, { timeout: 10000 });
  const userMsg = await page.$eval("#chat-log .user", (e) => e.textContent);
  check(userMsg === "Hello <script>window.__xss=3</script>", "chat message not shown as typed");
  if (shots) await page.screenshot({ path: shots + "/webui-chat.png" });

  lap('check(await ');
  check(await page.evaluate(() => window.__xss) === undefined, "a script from the text ran");
  check(outside.length === 0, "requests left the server: " + outside.join(", "));
  check(dialogs.length === 0, "dialogs opened: " + dialogs.join(", "));
  check(pageErrors.length === 0, "errors on the page: " + pageErrors.join("; "));
  console.log("browser checks passed");
} finally {
  await browser.close();
}
