// The official Langfuse JS SDK v5 (OTLP: @langfuse/otel + @langfuse/tracing on @opentelemetry/sdk-node), configured
// only through LANGFUSE_BASE_URL / LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY, sending TRACES traces of 3 observations.
// It prints one line per acknowledged export and a final line:
//   RESULT {"acked":["<traceId>/<spanId>", ...],"failed":[...]}
// "Acknowledged" is what the SDK's own OTLP exporter reported as a success (the relay answered 2xx); the exporter is
// the SDK's default one, only observed here.
import { NodeSDK } from "@opentelemetry/sdk-node";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { propagateAttributes, startObservation } from "@langfuse/tracing";

const traces = Number(process.argv[2] ?? process.env.TRACES ?? "5");
const acked = [];
const failed = [];

const processor = new LangfuseSpanProcessor({ flushAt: 6, flushInterval: 0.2 });
const exporter = processor.processor?._exporter;
if (!exporter || typeof exporter.export !== "function") {
  console.error("cannot observe the SDK's exporter (processor.processor._exporter); the SDK's internals changed");
  process.exit(3);
}
const originalExport = exporter.export.bind(exporter);
exporter.export = (spans, done) =>
  originalExport(spans, (result) => {
    const ids = spans.map((s) => `${s.spanContext().traceId}/${s.spanContext().spanId}`);
    (result.code === 0 ? acked : failed).push(...ids);
    console.log(`export ${result.code === 0 ? "ok" : "failed"} ${ids.length} span(s)${result.error ? " " + result.error : ""}`);
    done(result);
  });

const sdk = new NodeSDK({ spanProcessors: [processor] });
sdk.start();

for (let i = 0; i < traces; i++) {
  propagateAttributes({ userId: "u1", sessionId: "relay-js" }, () => {
    const root = startObservation(`relay-js-otlp-${i}`, { input: { question: `q${i}` } });
    root.setTraceIO({ input: { question: `q${i}` }, output: "done" });
    const tool = root.startObservation("web_search", { input: { query: `q${i}` } }, { asType: "tool" });
    tool.update({ output: { hits: 3 } }).end();
    const generation = root.startObservation(
      "plan",
      { model: "gpt-4o", input: [{ role: "user", content: "hi" }], usageDetails: { input: 10, output: 20 } },
      { asType: "generation" },
    );
    generation.update({ output: "plan text" }).end();
    root.update({ output: "done" }).end();
  });
}

await processor.forceFlush();
await sdk.shutdown();
console.log("RESULT " + JSON.stringify({ acked, failed }));
