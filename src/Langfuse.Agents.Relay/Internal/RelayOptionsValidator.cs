using System.Globalization;
using Langfuse.Agents.Internal.Configuration;
using Microsoft.Extensions.Options;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Checks the relay's options at start (<c>ValidateOnStart</c>) and reports every problem at once: what could not be
/// read, the upstream's keys (required: the relay forwards with them), the SDK's own checks of the upstream settings,
/// the client keys (together or not at all) and the relay's ranges. Messages never show a key.
/// </summary>
internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var found = new List<string>(options.ReadingProblems);
        var upstream = options.Upstream;
        if (string.IsNullOrWhiteSpace(upstream.PublicKey) || string.IsNullOrWhiteSpace(upstream.SecretKey))
        {
            found.Add("LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are required: the relay forwards to Langfuse with them.");
        }
        else
        {
            found.AddRange(LangfuseOptionsValidator.Validate(upstream));
        }

        if (options.ClientKeysGivenApart || string.IsNullOrEmpty(options.ClientPublicKey) != string.IsNullOrEmpty(options.ClientSecretKey))
        {
            found.Add("LANGFUSE_RELAY_PUBLIC_KEY and LANGFUSE_RELAY_SECRET_KEY are set together or not at all.");
        }

        // The ranges again, for options built in code (read ones already fell back to the default with a problem).
        // A tiny buffer cap is allowed in code (tests fill it); the configuration's lower bound is the SDK's 1 MiB.
        Range(found, nameof(RelayOptions.BufferMaxBytes), options.BufferMaxBytes, 1, long.MaxValue);
        Range(found, nameof(RelayOptions.BodyTimeout), (long)Math.Ceiling(options.BodyTimeout.TotalSeconds), 1, 3600);
        Range(found, nameof(RelayOptions.MaxInFlightBodyBytes), options.MaxInFlightBodyBytes, 2 * RelayOptions.DefaultMaxOtlpBodyBytes, long.MaxValue);
        Range(found, nameof(RelayOptions.DeadLetterMaxBytes), options.DeadLetterMaxBytes, 64 * 1024, long.MaxValue);
        Range(found, nameof(RelayOptions.MaxPendingRequests), options.MaxPendingRequests, 1, 1_000_000);
        if (string.IsNullOrWhiteSpace(options.BufferDirectory))
        {
            found.Add("Relay:BufferDirectory is empty.");
        }

        return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
    }

    private static void Range(List<string> found, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            found.Add(string.Create(CultureInfo.InvariantCulture, $"Relay:{key}={value} is not a whole number from {min} to {max}."));
        }
    }
}
