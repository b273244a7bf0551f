// Run by tests/test_simulator_streaming.py: openai-node against the simulator, unchanged.
// Usage: node stream_check.cjs <folder holding node_modules/openai> <base URL>
const path = require("path");
const OpenAI = require(path.join(process.argv[2], "node_modules", "openai"));

async function main() {
  const client = new OpenAI({ baseURL: process.argv[3], apiKey: "test-key", maxRetries: 0 });
  const messages = [{ role: "user", content: "Tell me about neon." }];
  const model = "gpt-4o-mini-2024-07-18";
  const stream = await client.chat.completions.create({
    model, messages, stream: true, stream_options: { include_usage: true },
    logprobs: true, top_logprobs: 2,
  });
  let text = "", finish = null, usage = null, roles = [], chunks = 0, tokens = 0;
  for await (const chunk of stream) {
    chunks += 1;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.role) roles.push(choice.delta.role);
      text += choice.delta.content || "";
      if (choice.finish_reason) finish = choice.finish_reason;
      tokens += choice.logprobs ? choice.logprobs.content.length : 0;
    }
  }
  const { data, response } = await client.chat.completions
    .create({ model, messages, max_tokens: 3, n: 2 })
    .withResponse();
  const legacy = await client.completions.create({
    model: "babbage-002", prompt: "Neon is", max_tokens: 4, stream: true,
  });
  let legacyText = "";
  for await (const chunk of legacy) for (const c of chunk.choices) legacyText += c.text;
  console.log(JSON.stringify({
    text, finish, usage, roles, chunks, tokens, legacyText,
    whole: data.choices.map((c) => c.message.content),
    finishes: data.choices.map((c) => c.finish_reason),
    requestId: response.headers.get("x-request-id"),
  }));
}

main().catch((error) => { console.error(error); process.exit(1); });
