// POST /v1/embeddings through the official OpenAI Node SDK (run by tests/cli/serve_embeddings.sh).
// Usage: node openai_embeddings.mjs BASE_URL API_KEY OUT.json
// client.embeddings.create with the SDK's default request (it asks for base64 and decodes the
// little-endian float32 itself) and with encoding_format "float": the same vectors, OpenAI's
// shape and usage; `dimensions` and an empty input are BadRequestErrors naming the field.
// Writes the vectors to OUT.json for the shell to compare with `gpt2 embed`.
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

const input = ["Dog", "Puppy", "Cat", "Kitten"];
const b64 = await client.embeddings.create({ model: "gpt2", input });
check(b64.object === "list" && b64.data.length === 4, "a list of 4 embeddings");
check(b64.data.every((d, i) => d.object === "embedding" && d.index === i), "objects and indexes");
check(b64.data.every((d) => Array.isArray(d.embedding) && d.embedding.length === b64.data[0].embedding.length),
      "the SDK decoded base64 into float arrays of one width");
check(b64.usage.prompt_tokens > 0 && b64.usage.total_tokens === b64.usage.prompt_tokens, "usage");
const flt = await client.embeddings.create({ model: "gpt2", input, encoding_format: "float" });
// JSON carries each float32 in its shortest form; base64 its exact bits: equal as float32
const f32 = (v) => JSON.stringify(v.map(Math.fround));
check(f32(flt.data.map((d) => d.embedding).flat()) === f32(b64.data.map((d) => d.embedding).flat()),
      "base64 and float give the same float32 vectors");
const one = await client.embeddings.create({ model: "gpt2", input: "Cat", encoding_format: "float" });
check(JSON.stringify(one.data[0].embedding) === JSON.stringify(flt.data[2].embedding),
      "a text's vector does not depend on the texts beside it");

async function rejects(body, param) {
  try {
    await client.embeddings.create(body);
  } catch (e) {
    check(e instanceof OpenAI.BadRequestError, `${param}: a BadRequestError, not ${e}`);
    check(e.param === param, `the error names '${param}' (got '${e.param}')`);
    return;
  }
  check(false, `${param}: no error`);
}
await rejects({ model: "gpt2", input: "Dog", dimensions: 8 }, "dimensions");
await rejects({ model: "gpt2", input: [] }, "input");
writeFileSync(out, JSON.stringify(b64.data.map((d) => d.embedding)));
console.log("ok: embeddings through the OpenAI SDK");
