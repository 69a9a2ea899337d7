// gpt2 serve through the official OpenAI Node SDK (run by tests/cli/serve_openai_node.sh).
// Usage: node openai_sdk.mjs BASE_URL API_KEY OUT.json
// Checks, with the SDK's own parsing: a completion (seeded, so it must equal the same request
// streamed), a streamed chat (chunks concatenate to the non-streamed answer, one
// finish_reason), and chat log-probabilities read the way a classifier reads them: the
// top_logprobs of the first generated token, a probability per candidate label; streamed
// searches (beam and contrastive) equal their non-streamed answers. Writes the
// classifier's top list to OUT.json for the shell to check against gpt2 inspect-logits.
import OpenAI from "openai";
import { writeFileSync } from "node:fs";

const [baseURL, apiKey, out] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
function check(cond, what) {
  if (!cond) {
    console.error("FAIL: " + what);
    process.exit(1);
  }
}

// 1. models and a completion
const models = await client.models.list();
check(models.data.length === 1 && typeof models.data[0].id === "string", "models.list");
const comp = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Once upon a time", max_tokens: 12, seed: 11 });
check(comp.object === "text_completion" && comp.choices.length === 1, "completion shape");
check(typeof comp.choices[0].text === "string" && comp.choices[0].text.length > 0, "completion text");
check(["stop", "length"].includes(comp.choices[0].finish_reason), "completion finish_reason");
check(comp.usage.total_tokens === comp.usage.prompt_tokens + comp.usage.completion_tokens, "usage");
let streamed = "";
for await (const chunk of await client.completions.create({ model: "x", prompt: "Once upon a time", max_tokens: 12, seed: 11, stream: true }))
  streamed += chunk.choices[0]?.text ?? "";
check(streamed === comp.choices[0].text, `streamed completion ${JSON.stringify(streamed)} != ${JSON.stringify(comp.choices[0].text)}`);

// 2. a streamed chat
const messages = [{ role: "user", content: "Tell me a story." }];
const chat = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 16, seed: 3 });
check(chat.object === "chat.completion" && chat.choices[0].message.role === "assistant", "chat shape");
let content = "", finishes = 0, role = "";
const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 16, seed: 3, stream: true });
for await (const chunk of stream) {
  const c = chunk.choices[0];
  if (!c) continue;
  if (c.delta?.role) role = c.delta.role;
  content += c.delta?.content ?? "";
  if (c.finish_reason) finishes++;
}
check(role === "assistant", "streamed chat role");
check(finishes === 1, "streamed chat: one finish_reason");
check(content === chat.choices[0].message.content, `streamed chat ${JSON.stringify(content)} != ${JSON.stringify(chat.choices[0].message.content)}`);

// 3. the classifier: top_logprobs of the first token
const cls = await client.chat.completions.create({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Is this review positive or negative? 'Great film.' Answer:" }],
  max_tokens: 1, logprobs: true, top_logprobs: 5, temperature: 0,
});
const first = cls.choices[0].logprobs.content[0];
const top = first.top_logprobs;
check(top.length === 5, "5 top_logprobs");
const probs = Object.fromEntries(top.map((t) => [t.token, Math.exp(t.logprob)]));
const total = Object.values(probs).reduce((a, b) => a + b, 0);
check(total > 0 && total <= 1 + 1e-9, "probabilities sum to at most 1");
for (let i = 1; i < top.length; i++) check(top[i - 1].logprob >= top[i].logprob, "top_logprobs sorted");
check(first.token === top[0].token && first.logprob === top[0].logprob, "greedy token is the most likely");
check(top.every((t) => Array.isArray(t.bytes)), "bytes");
// 4. searches (extension fields, docs/search.md), streamed through the SDK: a beam search's n
// sequences and a contrastive chat come token by token when the search ends and add up to the
// non-streamed answer; each choice's last chunk carries its "score"
const beam = { model: "x", prompt: "Once upon a time", max_tokens: 8, beams: 3, n: 2 };
const whole = await client.completions.create(beam);
check(whole.choices.length === 2 && typeof whole.choices[0].score === "number", "beam search choices");
const texts = ["", ""], scores = [null, null];
for await (const chunk of await client.completions.create({ ...beam, stream: true }))
  for (const c of chunk.choices) {
    texts[c.index] += c.text;
    if (c.finish_reason) scores[c.index] = c.score;
  }
for (const i of [0, 1]) {
  check(texts[i] === whole.choices[i].text, `streamed beam ${i}: ${JSON.stringify(texts[i])} != ${JSON.stringify(whole.choices[i].text)}`);
  check(scores[i] === whole.choices[i].score, `streamed beam ${i}: score ${scores[i]} != ${whole.choices[i].score}`);
}
const cs = { model: "x", messages, max_tokens: 8, penalty_alpha: 0.6, top_k: 4 };
const csWhole = await client.chat.completions.create(cs);
let csText = "";
for await (const chunk of await client.chat.completions.create({ ...cs, stream: true }))
  csText += chunk.choices[0]?.delta?.content ?? "";
check(csText === csWhole.choices[0].message.content, `streamed contrastive chat ${JSON.stringify(csText)} != ${JSON.stringify(csWhole.choices[0].message.content)}`);

writeFileSync(out, JSON.stringify({ top }));
console.log("openai sdk: ok");
