using Langfuse.Agents;

// No flush, no dispose: LangfuseTracer.Default must deliver this at process exit by itself.
var tracer = LangfuseTracer.Default;
using (var root = tracer.StartTrace("exit-flush", sessionId: "exit-session"))
{
    using var tool = tracer.StartTool("lookup", input: new { key = args.FirstOrDefault() ?? "none" });
    tool.Output = "found";
    root.ScoreTrace("ok", true);
}

Console.WriteLine("done");
return 0;
