using System.Globalization;
using System.Text;
using CsCheck;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// Model-based tests: random sequences of append, take, complete, release, replace, damage, crash (the instance is
/// dropped without a final write, optionally after an append torn mid-write), reopen, cap and expiry (a fake clock)
/// run against the real queue on the real file system and against a simple in-memory model of what it must hold.
/// After every step the queue's counts must equal the model's, every take must return exactly the model's oldest
/// segment with intact bytes, and every drop must be one the model expects (so nothing acknowledged is ever lost
/// without being counted, and nothing corrupt is ever returned). CsCheck shrinks a failing sequence to a short one.
/// </summary>
public sealed class DurableQueueModelTests
{
    private const long Cap = 3000;
    private static readonly TimeSpan Retention = TimeSpan.FromHours(48);

    [Fact]
    public void RandomOperationSequences_MatchTheModel()
    {
        var step = Gen.Select(Gen.Frequency((6, Gen.Const(Kind.Append)), (5, Gen.Const(Kind.Take)), (3, Gen.Const(Kind.Complete)),
                (2, Gen.Const(Kind.Release)), (2, Gen.Const(Kind.Replace)), (1, Gen.Const(Kind.Damage)), (1, Gen.Const(Kind.Crash)),
                (1, Gen.Const(Kind.Reopen)), (2, Gen.Const(Kind.Advance))),
            Gen.Int[0, 9],
            Gen.Int[0, 400],
            static (kind, a, b) => new Step(kind, a, b));
        var scenario = Gen.Select(Gen.Bool, step.Array[1, 40], static (dropOldest, steps) => new Scenario(dropOldest, steps));

        scenario.Sample(Run, iter: 60, threads: 1, print: static s => s.ToString());
    }

    private static void Run(Scenario scenario)
    {
        using var dir = new DurableTestDirectory();
        var clock = new FakeTimeProvider(DurableTestRecords.Now);
        var files = new FaultyFileSystem();
        var drops = new DropCounter();
        var model = new Model(scenario.DropOldest ? DurableFullPolicy.DropOldest : DurableFullPolicy.RejectNewest);
        var nextId = 0;
        var queue = Open();
        try
        {
            foreach (var step in scenario.Steps)
            {
                Apply(step);
                Check(step);
            }

            // Drain: everything the model still holds comes out, oldest first, intact; then nothing.
            queue.Dispose();
            queue = Open();
            model.UntakeAll();
            model.Expire(clock.GetUtcNow().UtcTicks);
            while (queue.TryTakeOldest(out var segment))
            {
                var expected = model.Take(clock.GetUtcNow().UtcTicks).ShouldNotBeNull("the queue returned a segment the model does not have");
                ShouldBeIntact(segment!, expected.Live);
                queue.Complete(segment!);
                model.Complete(expected);
            }

            model.Take(clock.GetUtcNow().UtcTicks).ShouldBeNull("the model still holds records the queue lost");
            Check(new Step(Kind.Take, 0, 0));
        }
        finally
        {
            queue.Dispose();
        }

        DurableQueue Open() => new(
            new DurableQueueOptions { Directory = dir.Path, MaxBytes = Cap, FullPolicy = model.Policy, Retention = Retention },
            drops.Callback,
            timeProvider: clock,
            fileSystem: files);

        void Apply(Step step)
        {
            var now = clock.GetUtcNow().UtcTicks;
            switch (step.Kind)
            {
                case Kind.Append:
                {
                    var count = 1 + (step.A % 3);
                    var age = step.B % 5 == 0 ? TimeSpan.FromHours(step.A * 6) : TimeSpan.Zero; // some arrive already old
                    var records = Enumerable.Range(0, count).Select(_ => NewRecord(nextId++, clock.GetUtcNow() - age, step.B)).ToArray();
                    var outcome = queue.Append(records);
                    model.Append(records, now, outcome, DurableFormat.EncodeSegment(records).Length);
                    break;
                }

                case Kind.Take:
                {
                    var expected = model.Take(now);
                    if (queue.TryTakeOldest(out var segment))
                    {
                        expected.ShouldNotBeNull("the queue returned a segment the model does not have");
                        ShouldBeIntact(segment!, expected.Live);
                        expected.Handle = segment;
                    }
                    else
                    {
                        expected.ShouldBeNull("the queue found nothing to take where the model holds a segment");
                    }

                    break;
                }

                case Kind.Complete when model.Taken(step.A) is { } taken:
                    queue.Complete(taken.Handle!);
                    model.Complete(taken);
                    break;
                case Kind.Release when model.Taken(step.A) is { } taken:
                    queue.Release(taken.Handle!);
                    taken.Handle = null;
                    break;
                case Kind.Replace when model.Taken(step.A) is { } taken:
                {
                    var keep = taken.Live.Skip(step.B % (taken.Live.Count + 1)).ToList();
                    queue.Replace(taken.Handle!, [.. taken.Handle!.Records.Where(r => keep.Any(k => k.Id == DurableTestRecords.IndexOf(r)))]);
                    model.Replace(taken, keep, DurableFormat.EncodeSegment([.. keep.Select(k => k.Record)]).Length);
                    break;
                }

                case Kind.Damage when model.Untaken(step.A) is { } victim && victim.Live.Count > 0:
                {
                    // Flip one byte in one record's body on disk: its checksum fails when the segment is next read.
                    var chosen = victim.Live[step.B % victim.Live.Count];
                    var index = victim.Records.IndexOf(chosen); // its place in the file, damaged records included
                    var path = Path.Combine(dir.Path, dir.Segments()[model.Position(victim)]);
                    var bytes = File.ReadAllBytes(path);
                    DurableTestRecords.IndexOf(DurableFormat.Decode(bytes).Records[0]).ShouldBe(victim.Live[0].Id, "model and directory disagree on order");
                    bytes[RecordBodyOffset(bytes, index) + 1] ^= 0x5A;
                    File.WriteAllBytes(path, bytes);
                    chosen.Damaged = true;
                    break;
                }

                case Kind.Crash:
                    if (step.A % 2 == 0)
                    {
                        files.TearNextWrite = true; // killed in the middle of this append: never acknowledged
                        var torn = Enumerable.Range(0, 2).Select(_ => NewRecord(nextId++, clock.GetUtcNow(), step.B)).ToArray();
                        var outcome = queue.Append(torn);
                        model.Expire(clock.GetUtcNow().UtcTicks); // the append expired what was due before it wrote
                        if (outcome == AppendOutcome.Full)
                        {
                            files.TearNextWrite = false; // refused at the cap before anything was written
                        }
                        else
                        {
                            outcome.ShouldBe(AppendOutcome.WriteFailed);
                        }
                    }

                    // Dropped without a final write; the kernel would release its lock, here the handle is closed.
                    queue.Dispose();
                    queue = Open();
                    model.UntakeAll();
                    model.Expire(clock.GetUtcNow().UtcTicks);
                    break;
                case Kind.Reopen:
                    queue.Dispose();
                    queue = Open();
                    model.UntakeAll();
                    model.Expire(clock.GetUtcNow().UtcTicks);
                    break;
                case Kind.Advance:
                    clock.Advance(TimeSpan.FromHours(step.A * 4));
                    break;
            }
        }

        void Check(Step step)
        {
            var stats = queue.Stats;
            var context = $"after {step}";
            stats.Segments.ShouldBe(model.Segments, context);
            stats.Records.ShouldBe(model.Records, context);
            stats.Items.ShouldBe(model.Items, context);
            queue.BufferedItems.ShouldBe(model.Items, context);
            drops.Items(DropReason.Expired).ShouldBe(model.Dropped(DropReason.Expired), context);
            drops.Items(DropReason.BufferFull).ShouldBe(model.Dropped(DropReason.BufferFull), context);
            drops.Items(DropReason.Corrupt).ShouldBe(model.Dropped(DropReason.Corrupt), context);
            dir.Files("*.lfq").Length.ShouldBe(model.Segments, context);
        }
    }

    private static void ShouldBeIntact(DurableSegment segment, IReadOnlyList<ModelRecord> expected)
    {
        segment.Records.Select(DurableTestRecords.IndexOf).ShouldBe(expected.Select(r => r.Id));
        for (var i = 0; i < expected.Count; i++)
        {
            segment.Records[i].ShouldMatch(expected[i].Record);
        }
    }

    private static DurableRecord NewRecord(int id, DateTimeOffset createdAt, int size)
    {
        var prefix = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"record {id};"));
        var payload = new byte[prefix.Length + (size % 300)];
        prefix.CopyTo(payload, 0);
        new Random(id).NextBytes(payload.AsSpan(prefix.Length));
        return new DurableRecord(id % 2 == 0 ? PayloadKind.OtlpTraces : PayloadKind.IngestionBatch, 1 + (id % 4), createdAt, payload, id % 3 == 0 ? "application/x-protobuf" : null);
    }

    /// <summary>Where the body of record <paramref name="index"/> starts in a segment file.</summary>
    private static int RecordBodyOffset(byte[] segment, int index)
    {
        var position = DurableFormat.SegmentHeaderSize;
        for (var i = 0; i < index; i++)
        {
            position += DurableFormat.RecordHeaderSize + BitConverter.ToInt32(segment, position + 4) + DurableFormat.RecordTrailerSize;
        }

        return position + DurableFormat.RecordHeaderSize;
    }

    private enum Kind
    {
        Append,
        Take,
        Complete,
        Release,
        Replace,
        Damage,
        Crash,
        Reopen,
        Advance,
    }

    private sealed record Step(Kind Kind, int A, int B);

    private sealed record Scenario(bool DropOldest, Step[] Steps)
    {
        public override string ToString() => $"{(DropOldest ? "drop oldest" : "reject newest")}: {string.Join(", ", Steps.Select(s => $"{s.Kind}({s.A},{s.B})"))}";
    }

    private sealed class ModelRecord(int id, DurableRecord record)
    {
        public int Id { get; } = id;

        public DurableRecord Record { get; } = record;

        public bool Damaged { get; set; }
    }

    private sealed class ModelSegment(List<ModelRecord> records, long bytes)
    {
        public List<ModelRecord> Records { get; set; } = records;

        public long Bytes { get; set; } = bytes;

        public DurableSegment? Handle { get; set; }

        public List<ModelRecord> Live => [.. Records.Where(r => !r.Damaged)];

        public long NewestTicks => Records.Max(r => r.Record.CreatedAt.UtcTicks);
    }

    /// <summary>What the queue must hold: segments in creation order, their records, which are taken, what was dropped and why.</summary>
    private sealed class Model(DurableFullPolicy policy)
    {
        private readonly List<ModelSegment> _segments = [];
        private readonly Dictionary<DropReason, long> _dropped = [];

        public DurableFullPolicy Policy { get; } = policy;

        public int Segments => _segments.Count;

        public long Records => _segments.Sum(s => (long)s.Records.Count);

        public long Items => _segments.Sum(s => s.Records.Sum(r => (long)r.Record.ItemCount));

        public long Dropped(DropReason reason) => _dropped.GetValueOrDefault(reason);

        public void Append(DurableRecord[] records, long now, AppendOutcome outcome, long bytes)
        {
            Expire(now);
            var total = _segments.Sum(s => s.Bytes);
            var expected = bytes > Cap || (Policy == DurableFullPolicy.RejectNewest && total + bytes > Cap) ? AppendOutcome.Full : AppendOutcome.Stored;
            outcome.ShouldBe(expected);
            if (outcome != AppendOutcome.Stored)
            {
                return;
            }

            var added = new ModelSegment([.. records.Select(r => new ModelRecord(DurableTestRecords.IndexOf(r), r))], bytes);
            _segments.Add(added);
            total += bytes;
            foreach (var oldest in _segments.ToList())
            {
                if (total <= Cap)
                {
                    break;
                }

                if (oldest != added && oldest.Handle is null)
                {
                    Drop(oldest, DropReason.BufferFull);
                    total -= oldest.Bytes;
                }
            }
        }

        /// <summary>What a take must return: expiry first, then the oldest untaken segment with its damage cut out (deleted if nothing is left).</summary>
        public ModelSegment? Take(long now)
        {
            Expire(now);
            foreach (var segment in _segments.ToList())
            {
                if (segment.Handle is not null)
                {
                    continue;
                }

                var damaged = segment.Records.Where(r => r.Damaged).ToList();
                if (damaged.Count > 0)
                {
                    Count(DropReason.Corrupt, damaged.Sum(r => (long)r.Record.ItemCount));
                    segment.Records = segment.Live;
                    if (segment.Records.Count == 0)
                    {
                        _segments.Remove(segment);
                        continue;
                    }

                    segment.Bytes = DurableFormat.EncodeSegment([.. segment.Records.Select(r => r.Record)]).Length;
                }

                segment.Handle = new DurableSegment("(pending)", []);
                return segment;
            }

            return null;
        }

        public ModelSegment? Taken(int which)
        {
            var taken = _segments.Where(s => s.Handle is not null).ToList();
            return taken.Count == 0 ? null : taken[which % taken.Count];
        }

        public ModelSegment? Untaken(int which)
        {
            var untaken = _segments.Where(s => s.Handle is null).ToList();
            return untaken.Count == 0 ? null : untaken[which % untaken.Count];
        }

        public int Position(ModelSegment segment) => _segments.IndexOf(segment);

        public void Complete(ModelSegment segment) => _segments.Remove(segment);

        public void Replace(ModelSegment segment, List<ModelRecord> keep, long bytes)
        {
            segment.Handle = null;
            if (keep.Count == 0)
            {
                _segments.Remove(segment);
                return;
            }

            segment.Records = keep;
            segment.Bytes = bytes;
        }

        public void UntakeAll()
        {
            foreach (var segment in _segments)
            {
                segment.Handle = null;
            }
        }

        public void Expire(long now)
        {
            var cutoff = now - Retention.Ticks;
            foreach (var segment in _segments.Where(s => s.Handle is null && s.NewestTicks < cutoff).ToList())
            {
                Drop(segment, DropReason.Expired);
            }
        }

        private void Drop(ModelSegment segment, DropReason reason)
        {
            _segments.Remove(segment);
            Count(reason, segment.Records.Sum(r => (long)r.Record.ItemCount));
        }

        private void Count(DropReason reason, long items) => _dropped[reason] = Dropped(reason) + items;
    }
}
