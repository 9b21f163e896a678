using System.Globalization;

namespace Langfuse.Agents;

/// <summary>The data types of a Langfuse score.</summary>
public enum ScoreDataType
{
    /// <summary>A number (for example 0.87).</summary>
    Numeric,

    /// <summary>True or false, sent as 1 or 0.</summary>
    Boolean,

    /// <summary>One label out of a set (for example "relevant").</summary>
    Categorical,

    /// <summary>Free text of 1 to 500 characters.</summary>
    Text,
}

/// <summary>
/// The value of a score: numeric, boolean, categorical or text. Numbers and booleans convert implicitly,
/// so <c>observation.Score("quality", 0.9)</c> and <c>observation.Score("schema_valid", true)</c> both work.
/// </summary>
public readonly struct ScoreValue : IEquatable<ScoreValue>
{
    private ScoreValue(ScoreDataType dataType, double number, string? text)
    {
        DataType = dataType;
        Number = number;
        Text = text;
    }

    /// <summary>The score's data type.</summary>
    public ScoreDataType DataType { get; }

    /// <summary>The number for numeric scores, 1 or 0 for booleans, 0 otherwise.</summary>
    public double Number { get; }

    /// <summary>The label or text for categorical and text scores; <see langword="null"/> otherwise.</summary>
    public string? Text { get; }

    /// <summary>A numeric score.</summary>
    /// <param name="value">The value; must be finite.</param>
    /// <returns>The score value.</returns>
    public static ScoreValue Numeric(double value) => new(ScoreDataType.Numeric, value, null);

    /// <summary>A boolean score, sent to Langfuse as 1 or 0.</summary>
    /// <param name="value">The fact being scored.</param>
    /// <returns>The score value.</returns>
    public static ScoreValue Boolean(bool value) => new(ScoreDataType.Boolean, value ? 1 : 0, null);

    /// <summary>A categorical score.</summary>
    /// <param name="label">The category.</param>
    /// <returns>The score value.</returns>
    public static ScoreValue Categorical(string label) => new(ScoreDataType.Categorical, 0, label);

    /// <summary>A text score (1 to 500 characters; Langfuse rejects longer text).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The score value.</returns>
    public static ScoreValue FromText(string text) => new(ScoreDataType.Text, 0, text);

    /// <summary>Converts a number to a numeric score.</summary>
    /// <param name="value">The number.</param>
    public static implicit operator ScoreValue(double value) => Numeric(value);

    /// <summary>Converts a boolean to a boolean score.</summary>
    /// <param name="value">The boolean.</param>
    public static implicit operator ScoreValue(bool value) => Boolean(value);

    /// <summary>Equality by data type and value.</summary>
    /// <param name="left">One value.</param>
    /// <param name="right">The other value.</param>
    public static bool operator ==(ScoreValue left, ScoreValue right) => left.Equals(right);

    /// <summary>Inequality by data type and value.</summary>
    /// <param name="left">One value.</param>
    /// <param name="right">The other value.</param>
    public static bool operator !=(ScoreValue left, ScoreValue right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(ScoreValue other) => DataType == other.DataType && Number.Equals(other.Number) && Text == other.Text;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ScoreValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(DataType, Number, Text);

    /// <inheritdoc />
    public override string ToString() => DataType switch
    {
        ScoreDataType.Numeric => Number.ToString(CultureInfo.InvariantCulture),
        ScoreDataType.Boolean => Number != 0 ? "true" : "false",
        _ => Text ?? string.Empty,
    };
}
