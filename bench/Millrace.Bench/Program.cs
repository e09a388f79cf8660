using Millrace.Bench;
using Millrace.Redis;

// Entry point: `Millrace.Bench <benchmark> [options]`. Each benchmark lives in its own file and is
// registered here. Progress goes to stderr; the last line on stdout is the benchmark's JSON result.
// Exit codes: 0 done, 1 the benchmark failed, 2 bad command line.

var benchmarks = new (string Name, string Summary, Func<BenchArgs, CancellationToken, Task<int>> Run)[]
{
    ("client", "Millrace.Redis pipelined XADD throughput and round trip vs redis-benchmark", ClientBenchmark.RunAsync),
    ("e2e", "Millrace publish and process throughput and end-to-end latency vs redis-benchmark", E2eBenchmark.RunAsync),
    ("delayed", "Delayed messages: lateness at 1,000 due/s and promotion throughput", DelayedBenchmark.RunAsync),
};

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    PrintUsage();
    return args.Length == 0 ? 2 : 0;
}

var benchmark = benchmarks.FirstOrDefault(b => b.Name == args[0]);
if (benchmark.Run is null)
{
    Console.Error.WriteLine($"bench: error: unknown benchmark '{args[0]}'.");
    PrintUsage();
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    return await benchmark.Run(new BenchArgs(args.AsSpan(1).ToArray()), cancel.Token);
}
catch (BenchUsageException e)
{
    Console.Error.WriteLine($"bench {benchmark.Name}: error: {e.Message}");
    return 2;
}
catch (BenchException e)
{
    Console.Error.WriteLine($"bench {benchmark.Name}: error: {e.Message}");
    return 1;
}
catch (RedisException e)
{
    Console.Error.WriteLine($"bench {benchmark.Name}: error: Redis: {e.Message}");
    return 1;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine($"bench {benchmark.Name}: error: interrupted.");
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine($"bench {benchmark.Name}: error: unexpected failure: {e}");
    return 1;
}

void PrintUsage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Millrace.Bench -- <benchmark> [options]");
    Console.Error.WriteLine("benchmarks:");
    foreach (var b in benchmarks)
    {
        Console.Error.WriteLine($"  {b.Name,-10} {b.Summary}");
    }

    Console.Error.WriteLine("client options:");
    Console.Error.WriteLine(ClientBenchmark.Usage);
    Console.Error.WriteLine("e2e options:");
    Console.Error.WriteLine(E2eBenchmark.Usage);
}
