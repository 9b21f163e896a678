// The official legacy Langfuse JS SDK (langfuse 3.x, batch ingestion), configured through LANGFUSE_BASE_URL /
// LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY, sending TRACES traces (trace, span, generation, score; creates and
// updates). It prints a final line:
//   RESULT {"acked":["<event id>", ...],"failed":[...]}
// "Acknowledged" are the events the server listed as successes of a 207 (or every event of a 200/201): observed on the
// SDK's own fetch, which stays the SDK's.
import { Langfuse } from "langfuse";

const traces = Number(process.argv[2] ?? process.env.TRACES ?? "5");
const acked = [];
const failed = [];

const langfuse = new Langfuse({
  baseUrl: process.env.LANGFUSE_BASE_URL, // langfuse 3.x reads LANGFUSE_BASEURL only
  flushAt: 8,
  flushInterval: 200,
  fetchRetryCount: 2,
  fetchRetryDelay: 100,
});
langfuse.on("error", (e) => console.error("langfuse error:", e));

const originalFetch = langfuse.fetch.bind(langfuse);
langfuse.fetch = async (url, options) => {
  const res = await originalFetch(url, options);
  if (!String(url).endsWith("/api/public/ingestion")) return res;
  const sent = JSON.parse(options.body).batch.map((e) => e.id);
  let body = {};
  try {
    body = await res.clone().json();
  } catch {
    // not JSON: counted by status alone
  }
  let ok = [];
  if (res.status === 207) ok = (body.successes ?? []).map((s) => s.id);
  else if (res.status >= 200 && res.status < 300) ok = sent;
  const okSet = new Set(ok);
  acked.push(...ok);
  failed.push(...sent.filter((id) => !okSet.has(id)));
  console.log(`ingestion ${res.status}: ${ok.length}/${sent.length} acknowledged`);
  return res;
};

for (let i = 0; i < traces; i++) {
  const trace = langfuse.trace({ name: `relay-js-legacy-${i}`, sessionId: "relay-js", userId: "u1", input: `q${i}` });
  const span = trace.span({ name: "coordinator", input: { q: i } });
  const generation = span.generation({
    name: "plan",
    model: "gpt-4o",
    input: [{ role: "user", content: "hi" }],
    usage: { input: 10, output: 20 },
  });
  generation.end({ output: "plan text" });
  span.end({ output: "done" });
  trace.score({ name: "quality", value: 1 });
}

await langfuse.shutdownAsync();
console.log("RESULT " + JSON.stringify({ acked, failed }));
