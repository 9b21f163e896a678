using Langfuse.Agents.Relay.Internal;

return await RelayProgram.RunAsync(args, Environment.GetEnvironmentVariable, Console.Out, Console.Error);
