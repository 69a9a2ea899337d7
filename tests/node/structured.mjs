// The course's structured-output example through the official OpenAI Node SDK (run by
// tests/cli/serve_openai_node.sh): person extraction with response_format json_schema
// (name, age, city, company, hobbies), non-streamed with n = 4 and streamed; JSON mode; a
// misspelled response_format type is a BadRequestError naming the field.
// Usage: node structured.mjs BASE_URL API_KEY SCHEMA.json OUT.json — writes every complete
// answer to OUT.json for the shell to validate with python3-jsonschema (independent checker).
import OpenAI from "openai";
import { readFileSync, writeFileSync } from "node:fs";

const [baseURL, apiKey, schemaFile, out] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });
function check(cond, what) {
  if (!cond) {
    console.error("FAIL: " + what);
    process.exit(1);
  }
}
const messages = [
  { role: "system", content: "Extract the person as JSON." },
  { role: "user", content: "Ann Lee, 31, lives in Paris and works at Acme. She likes chess and tennis." },
];
const response_format = { type: "json_schema", json_schema: { name: "person", schema, strict: true } };
const answers = [];

const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages, response_format, max_tokens: 200, n: 4, seed: 7 });
check(res.choices.length === 4, "n = 4 choices");
for (const c of res.choices) {
  check(["stop", "length"].includes(c.finish_reason), "finish_reason");
  if (c.finish_reason === "stop") {
    const person = JSON.parse(c.message.content);  // must parse
    check(typeof person.name === "string" && Number.isInteger(person.age), "person fields");
    answers.push(c.message.content);
  }
}
check(answers.length >= 2, `only ${answers.length} complete answers of 4`);

// streamed: the chunks concatenate to the same answer as choice 0
let content = "";
for await (const chunk of await client.chat.completions.create({ model: "gpt-4o-mini", messages, response_format, max_tokens: 200, seed: 7, stream: true }))
  content += chunk.choices[0]?.delta?.content ?? "";
check(content === res.choices[0].message.content, `streamed ${JSON.stringify(content)} != ${JSON.stringify(res.choices[0].message.content)}`);

// completions endpoint with the same schema
const comp = await client.completions.create({ model: "x", prompt: "Person:", response_format, max_tokens: 200, seed: 3 });
if (comp.choices[0].finish_reason === "stop") answers.push(comp.choices[0].text);

// a misspelled type: 400, naming the field
try {
  await client.chat.completions.create({ model: "x", messages, response_format: { type: "json" }, max_tokens: 5 });
  check(false, "response_format type 'json' was accepted");
} catch (e) {
  check(e instanceof OpenAI.BadRequestError, "a bad type is a BadRequestError");
  check(e.param === "response_format.type", `param ${e.param}`);
}
writeFileSync(out, JSON.stringify(answers));
