// Two agents in two processes, one trace per query.
//
//   dotnet run --project examples/DistributedAgents                     (offline: prints what was traced, sends nothing)
//   LANGFUSE_PUBLIC_KEY=pk-lf-... LANGFUSE_SECRET_KEY=sk-lf-... \
//   LANGFUSE_BASE_URL=https://cloud.langfuse.com dotnet run --project examples/DistributedAgents -- "your question"
//
// The coordinator (this process) starts the searcher agent as a second process (this same program with --searcher),
// serving HTTP on 127.0.0.1 and a free port, calls it with an HttpClient whose LangfusePropagationHandler sends the
// W3C traceparent (and the session and user ids as baggage), and stops it at the end. The searcher continues the
// caller's trace with app.UseLangfuseTraceContext(), so each query is one trace holding both processes' observations;
// each process reports its own service.name. Test hooks (environment variables, read by the searcher):
//   DISTRIBUTED_AGENTS_CRASH_ON=<query>  the searcher kills itself (SIGKILL) while handling that query
//   DISTRIBUTED_AGENTS_HANG_ON=<query>   the searcher never answers that query (the coordinator's timeout fires)
//   DISTRIBUTED_AGENTS_TIMEOUT=<seconds> the coordinator's timeout per delegation (default 10)

using DistributedAgents;

return args is ["--searcher", ..]
    ? await SearcherService.RunAsync()
    : await CoordinatorApp.RunAsync(args);
