using Google.Protobuf;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Testing.Otlp.Common.V1;
using Langfuse.Agents.Testing.Otlp.Trace.V1;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Export;

public sealed class ProtobufWriterTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(127UL)]
    [InlineData(128UL)]
    [InlineData(300UL)]
    [InlineData(16_383UL)]
    [InlineData(16_384UL)]
    [InlineData(4_294_967_296UL)]
    [InlineData(ulong.MaxValue)]
    public void WriteVarint_MatchesGoogleProtobuf(ulong value)
    {
        using var writer = new ProtobufWriter();
        writer.WriteVarint(value);

        var expected = new MemoryStream();
        var output = new CodedOutputStream(expected);
        output.WriteUInt64(value);
        output.Flush();

        writer.WrittenSpan.ToArray().ShouldBe(expected.ToArray());
    }

    [Fact]
    public void WriteVarint_KnownEncodings()
    {
        Encode(w => w.WriteVarint(0)).ShouldBe(new byte[] { 0x00 });
        Encode(w => w.WriteVarint(127)).ShouldBe(new byte[] { 0x7F });
        Encode(w => w.WriteVarint(128)).ShouldBe(new byte[] { 0x80, 0x01 });
        Encode(w => w.WriteVarint(1UL << 32)).ShouldBe(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x10 });
        Encode(w => w.WriteVarint(ulong.MaxValue)).ShouldBe(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 });
    }

    [Fact]
    public void NestedMessage_PaddedFourByteLengthPrefix_IsParsedByGoogleProtobuf()
    {
        using var writer = new ProtobufWriter();
        writer.WriteStringField(1, "key");
        var value = writer.BeginLengthDelimited(2);
        writer.WriteStringField(1, "value");
        writer.EndLengthDelimited(value);

        // tag(2) then a 4-byte varint for 7 (0x87 0x80 0x80 0x00): non-minimal but valid.
        writer.WrittenSpan[5..10].ToArray().ShouldBe(new byte[] { 0x12, 0x87, 0x80, 0x80, 0x00 });
        var parsed = KeyValue.Parser.ParseFrom(writer.WrittenSpan.ToArray());
        parsed.Key.ShouldBe("key");
        parsed.Value.StringValue.ShouldBe("value");
    }

    [Fact]
    public void NestedMessage_EmptyAndDeep_AreParsed()
    {
        using var writer = new ProtobufWriter();
        var array = writer.BeginLengthDelimited(5); // AnyValue.array_value
        for (var i = 0; i < 3; i++)
        {
            var element = writer.BeginLengthDelimited(1);
            if (i == 1)
            {
                var inner = writer.BeginLengthDelimited(5); // an empty nested array
                writer.EndLengthDelimited(inner);
            }
            else
            {
                writer.WriteStringField(1, $"v{i}");
            }

            writer.EndLengthDelimited(element);
        }

        writer.EndLengthDelimited(array);
        var parsed = AnyValue.Parser.ParseFrom(writer.WrittenSpan.ToArray());
        parsed.ArrayValue.Values.Count.ShouldBe(3);
        parsed.ArrayValue.Values[0].StringValue.ShouldBe("v0");
        parsed.ArrayValue.Values[1].ArrayValue.Values.ShouldBeEmpty();
        parsed.ArrayValue.Values[2].StringValue.ShouldBe("v2");
    }

    [Fact]
    public void ScalarFields_AreParsedByGoogleProtobuf()
    {
        using var writer = new ProtobufWriter();
        writer.WriteBytesField(1, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 });
        writer.WriteFixed64Field(7, 1_795_239_544_069_000_000UL);
        writer.WriteFixed64Field(8, ulong.MaxValue);
        writer.WriteVarintField(6, 1);
        writer.WriteFixed32Field(16, 0x301);
        var span = Span.Parser.ParseFrom(writer.WrittenSpan.ToArray());
        span.TraceId.ToByteArray().ShouldBe(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
        span.StartTimeUnixNano.ShouldBe(1_795_239_544_069_000_000UL);
        span.EndTimeUnixNano.ShouldBe(ulong.MaxValue);
        span.Kind.ShouldBe(Span.Types.SpanKind.Internal);
        span.Flags.ShouldBe(0x301u);

        AnyValue.Parser.ParseFrom(Encode(w => w.WriteDoubleField(4, -1.5e300))).DoubleValue.ShouldBe(-1.5e300);
        AnyValue.Parser.ParseFrom(Encode(w => w.WriteBoolField(2, true))).BoolValue.ShouldBeTrue();
        AnyValue.Parser.ParseFrom(Encode(w => w.WriteBoolField(2, false))).HasBoolValue.ShouldBeTrue();
        AnyValue.Parser.ParseFrom(Encode(w => w.WriteInt64Field(3, -42))).IntValue.ShouldBe(-42);
        AnyValue.Parser.ParseFrom(Encode(w => w.WriteInt64Field(3, long.MaxValue))).IntValue.ShouldBe(long.MaxValue);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ascii")]
    [InlineData("日本語のテキスト — émojis 🚀👩‍💻")]
    public void WriteStringField_WritesUtf8(string value)
    {
        var parsed = AnyValue.Parser.ParseFrom(Encode(w => w.WriteStringField(1, value)));
        parsed.StringValue.ShouldBe(value);
    }

    [Theory]
    [InlineData(41)]
    [InlineData(42)]
    [InlineData(43)]
    [InlineData(44)]
    [InlineData(100)]
    public void WriteStringField_AroundOneByteLengthBoundary_HasMinimalLengthPrefix(int chars)
    {
        foreach (var c in new[] { 'a', 'é', '€' })
        {
            var value = new string(c, chars);
            var bytes = Encode(w => w.WriteStringField(1, value));
            var expected = new MemoryStream();
            var output = new CodedOutputStream(expected);
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteString(value);
            output.Flush();
            bytes.ShouldBe(expected.ToArray());
        }
    }

    [Fact]
    public void WriteStringField_LoneSurrogate_BecomesReplacementCharacter()
    {
        var parsed = AnyValue.Parser.ParseFrom(Encode(w => w.WriteStringField(1, "a\uD800b")));
        parsed.StringValue.ShouldBe("a\uFFFDb");
    }

    [Fact]
    public void Buffer_GrowsFromTinyInitialCapacity()
    {
        using var writer = new ProtobufWriter(initialCapacity: 16);
        var big = new string('x', 1_000_000) + "€";
        var outer = writer.BeginLengthDelimited(2);
        writer.WriteStringField(1, big);
        writer.EndLengthDelimited(outer);
        writer.Capacity.ShouldBeGreaterThanOrEqualTo(writer.Length);

        var parsed = KeyValue.Parser.ParseFrom(writer.WrittenSpan.ToArray());
        parsed.Value.StringValue.ShouldBe(big);
    }

    [Fact]
    public void Reset_ReusesBufferAndStartsOver()
    {
        using var writer = new ProtobufWriter(initialCapacity: 64);
        writer.WriteStringField(1, new string('x', 10_000));
        var capacity = writer.Capacity;
        writer.Reset();
        writer.Length.ShouldBe(0);
        writer.WriteStringField(1, "short");
        writer.Capacity.ShouldBe(capacity);
        AnyValue.Parser.ParseFrom(writer.WrittenSpan.ToArray()).StringValue.ShouldBe("short");
    }

    [Fact]
    public void Truncate_DropsWhatWasWrittenAfterTheMark()
    {
        using var writer = new ProtobufWriter();
        writer.WriteStringField(1, "keep");
        var mark = writer.Length;
        writer.WriteStringField(1, "drop");
        writer.Truncate(mark);
        AnyValue.Parser.ParseFrom(writer.WrittenSpan.ToArray()).StringValue.ShouldBe("keep");
        Should.Throw<ArgumentOutOfRangeException>(() => writer.Truncate(mark + 1));
    }

    [Fact]
    public void SteadyState_DoesNotAllocate()
    {
        using var writer = new ProtobufWriter();
        var text = new string('y', 500);
        void Write()
        {
            writer.Reset();
            for (var i = 0; i < 50; i++)
            {
                var kv = writer.BeginLengthDelimited(9);
                writer.WriteBytesField(1, "langfuse.observation.input"u8);
                var any = writer.BeginLengthDelimited(2);
                writer.WriteStringField(1, text);
                writer.EndLengthDelimited(any);
                writer.EndLengthDelimited(kv);
                writer.WriteFixed64Field(7, (ulong)i);
                writer.WriteVarintField(6, (ulong)i);
            }
        }

        Write();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Write();
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }

    private static byte[] Encode(Action<ProtobufWriter> write)
    {
        using var writer = new ProtobufWriter();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }
}
