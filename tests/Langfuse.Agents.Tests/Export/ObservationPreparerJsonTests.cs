using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Langfuse.Agents.Internal.Export;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Export;

/// <summary>
/// User values through the resolver chain: the user's <c>IJsonTypeInfoResolver</c> first, the SDK's source-generated
/// metadata next, reflection only where the runtime allows it. <c>allowReflection: false</c> is what a trimmed or
/// NativeAOT app gets (the JIT cannot switch reflection off once it has started).
/// </summary>
public sealed class ObservationPreparerJsonTests : IDisposable
{
    private readonly LangfuseTracer _tracer = new(new LangfuseOptions(), NullLoggerFactory.Instance);

    public void Dispose() => _tracer.Dispose();

    [Fact]
    public void WithoutReflection_AnObjectWithoutMetadata_BecomesAnExplicitMarker_NotAnEmptyObject()
    {
        var prepared = Preparer(new LangfuseOptions(), allowReflection: false).Prepare(Ended(new { question = "why?" }))!;

        prepared.Input.ShouldNotBeNull().ShouldStartWith("<unserializable ");
        prepared.Input.ShouldContain("no JSON metadata");
        prepared.InputIsPlainString.ShouldBeTrue();
    }

    [Fact]
    public void WithoutReflection_TheUsersResolver_SerializesItsTypes_AndTheSdksOwnValuesKeepTheirMetadata()
    {
        var options = new LangfuseOptions
        {
            JsonSerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = UserJsonContext.Default },
        };
        var observation = _tracer.StartSpan("step");
        observation.Input = new UserQuestion("why?");
        observation.Output = new Dictionary<string, object?> { ["answer"] = "because", ["score"] = 3 };
        observation.SetMetadata("question", new UserQuestion("nested"));
        observation.End();

        var prepared = Preparer(options, allowReflection: false).Prepare(observation)!;

        JsonDocument.Parse(prepared.Input!).RootElement.GetProperty("text").GetString().ShouldBe("why?");
        var output = JsonDocument.Parse(prepared.Output!).RootElement;
        output.GetProperty("answer").GetString().ShouldBe("because");
        output.GetProperty("score").GetInt32().ShouldBe(3);
        JsonDocument.Parse(prepared.Metadata!).RootElement.GetProperty("question").GetProperty("text").GetString().ShouldBe("nested");
    }

    [Fact]
    public void TheUsersResolver_ComesBeforeReflection()
    {
        // The user's resolver renames the property; reflection (later in the chain) would have written "text".
        var resolver = UserJsonContext.Default.WithAddedModifier(static info =>
        {
            foreach (var property in info.Properties)
            {
                property.Name = "user_" + property.Name;
            }
        });
        var options = new LangfuseOptions
        {
            JsonSerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = resolver },
        };

        var prepared = Preparer(options, allowReflection: true).Prepare(Ended(new UserQuestion("why?")))!;

        JsonDocument.Parse(prepared.Input!).RootElement.GetProperty("user_text").GetString().ShouldBe("why?");
    }

    [Fact]
    public void TheUsersOptions_AreNotLockedOrChangedByTheSdk()
    {
        var user = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = UserJsonContext.Default };

        _ = Preparer(new LangfuseOptions { JsonSerializerOptions = user }, allowReflection: true);

        user.IsReadOnly.ShouldBeFalse();
        user.TypeInfoResolver.ShouldBeSameAs(UserJsonContext.Default);
    }

    private static ObservationPreparer Preparer(LangfuseOptions options, bool allowReflection) =>
        new(options, NullLogger.Instance, timeProvider: null, allowReflection);

    private LangfuseObservation Ended(object input)
    {
        var observation = _tracer.StartSpan("step");
        observation.Input = input;
        observation.End();
        return observation;
    }
}

/// <summary>A user's own type, with source-generated metadata in the user's context.</summary>
public sealed record UserQuestion(string Text);

[JsonSerializable(typeof(UserQuestion))]
internal sealed partial class UserJsonContext : JsonSerializerContext
{
}
