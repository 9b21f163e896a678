using Langfuse.Agents;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Langfuse trace propagation to clients from <c>IHttpClientFactory</c>.</summary>
public static class LangfuseHttpClientBuilderExtensions
{
    /// <summary>
    /// Adds a <see cref="LangfusePropagationHandler"/> to the client, so each request continues the current
    /// observation's trace in the service it calls.
    /// </summary>
    /// <param name="builder">The client builder from <c>services.AddHttpClient(...)</c>.</param>
    /// <param name="includeBaggage">Also send the trace's attributes (session, user, name, tags, version, release, environment, metadata) as W3C <c>baggage</c> (default: off).</param>
    /// <returns>The client builder.</returns>
    public static IHttpClientBuilder AddLangfusePropagation(this IHttpClientBuilder builder, bool includeBaggage = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddHttpMessageHandler(() => new LangfusePropagationHandler { IncludeBaggage = includeBaggage });
    }
}
