using Microsoft.Extensions.Options;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Makes <see cref="IOptions{RelayOptions}"/> from options read once from configuration (or handed in by a test):
/// <see cref="RelayOptions"/> is immutable, so the instance is created here rather than configured after
/// construction; the registered validators (<see cref="RelayOptionsValidator"/>) still run on it.
/// </summary>
internal sealed class RelayOptionsFactory(
    RelayOptions options,
    IEnumerable<IConfigureOptions<RelayOptions>> setups,
    IEnumerable<IPostConfigureOptions<RelayOptions>> postConfigures,
    IEnumerable<IValidateOptions<RelayOptions>> validations)
    : OptionsFactory<RelayOptions>(setups, postConfigures, validations)
{
    protected override RelayOptions CreateInstance(string name) => options;
}
