using Langfuse.Agents.Relay.Internal;

namespace Langfuse.Agents.Fuzz;

/// <summary>The relay's parsers: OTLP protobuf and OTLP/JSON validation, batch validation (and what it would store).</summary>
internal static partial class FuzzTargets
{
    static partial void AddRelayTargets(Dictionary<string, FuzzTarget> targets)
    {
        targets["otlp-protobuf"] = static input =>
        {
            var error = OtlpRequestValidator.ValidateProtobuf(input, out var spans);
            Check(error is null ? spans >= 0 : error.Length > 0, "a validation result");
        };

        targets["otlp-json"] = static input =>
        {
            var error = OtlpRequestValidator.ValidateJson(input.ToArray(), out var spans);
            Check(error is null ? spans >= 0 : error.Length > 0, "a validation result");
        };

        targets["ingestion-batch"] = static input =>
        {
            var batch = IngestionBatchReader.Read(input.ToArray(), out var error);
            if (batch is null)
            {
                Check(!string.IsNullOrEmpty(error), "an envelope error");
                return;
            }

            // What the relay would store must read back as exactly the valid events.
            var valid = batch.Events.Where(e => e.Error is null).ToList();
            var stored = batch.Compose(valid);
            Check(stored.Length <= input.Length, "a stored body no larger than the request");
            var again = IngestionBatchReader.Read(stored, out _);
            Check(again is not null && again.Events.Count == valid.Count && again.Events.All(e => e.Error is null), "the stored body reads back all valid");
        };
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("fuzz property broken: " + what);
        }
    }
}
