using Microsoft.CodeAnalysis;

namespace Langfuse.Agents.Generators;

/// <summary>What one [Observe] attribute asks for.</summary>
internal sealed record ObserveSettings(string Name, int Type, bool CaptureInput, bool CaptureOutput)
{
    public static ObserveSettings From(AttributeData attribute, string methodName)
    {
        var name = methodName;
        var type = 0;
        var captureInput = true;
        var captureOutput = true;
        foreach (var argument in attribute.NamedArguments)
        {
            switch (argument.Key)
            {
                case "Name" when argument.Value.Value is string text && text.Length > 0:
                    name = text;
                    break;
                case "AsType" when argument.Value.Value is not null:
                    type = System.Convert.ToInt32(argument.Value.Value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "CaptureInput" when argument.Value.Value is bool value:
                    captureInput = value;
                    break;
                case "CaptureOutput" when argument.Value.Value is bool value:
                    captureOutput = value;
                    break;
            }
        }

        return new ObserveSettings(name, type, captureInput, captureOutput);
    }
}
