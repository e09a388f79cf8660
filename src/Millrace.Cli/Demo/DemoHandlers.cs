using System.Globalization;
using Millrace.Cli.Hosting;

namespace Millrace.Cli.Demo;

/// <summary>What the demo handlers do: how long <c>sleep</c> sleeps by default, how often <c>fail</c> fails, whether to print.</summary>
internal sealed record DemoSettings(TimeSpan DefaultSleep, double FailRate, bool Quiet);

/// <summary>
/// The built-in demo handlers, so retries and the dead-letter queue can be seen without writing code:
/// <c>echo</c> prints the payload; <c>sleep</c> waits (milliseconds or a duration in the payload,
/// else <see cref="DemoSettings.DefaultSleep"/>); <c>fail</c> throws with probability
/// <see cref="DemoSettings.FailRate"/>, so it is retried and, when its attempts run out, dead-lettered.
/// </summary>
internal static class DemoHandlers
{
    /// <summary>The message types the demo handlers take.</summary>
    public static readonly IReadOnlyList<string> Types = ["echo", "sleep", "fail"];

    private static long s_handled;
    private static long s_failed;

    /// <summary>Messages handled successfully by this process.</summary>
    public static long Handled => Interlocked.Read(ref s_handled);

    /// <summary>Attempts that failed in this process.</summary>
    public static long Failed => Interlocked.Read(ref s_failed);

    public static MillraceBuilder Register(MillraceBuilder builder, DemoSettings settings)
    {
        builder.AddHandler("echo", (context, _) =>
        {
            Print(settings, context, context.Message.PayloadText);
            Interlocked.Increment(ref s_handled);
            return Task.CompletedTask;
        });

        builder.AddHandler("sleep", async (context, cancellationToken) =>
        {
            var text = context.Message.PayloadText.Trim();
            var duration = CliParsers.TryParseDuration(text, out var fromPayload) ? fromPayload : settings.DefaultSleep;
            await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
            Print(settings, context, $"slept {Output.Out.Duration(duration)}");
            Interlocked.Increment(ref s_handled);
        });

        builder.AddHandler("fail", (context, _) =>
        {
            // Random.Shared is fine here: this is a demo's coin, not a security decision.
#pragma warning disable CA5394
            var fails = Random.Shared.NextDouble() < settings.FailRate;
#pragma warning restore CA5394
            if (fails)
            {
                Interlocked.Increment(ref s_failed);
                Print(settings, context, $"failing on purpose (fail rate {settings.FailRate.ToString(CultureInfo.InvariantCulture)})");
                throw new DemoFailureException($"demo failure on attempt {context.Message.Attempt} (fail rate {settings.FailRate.ToString(CultureInfo.InvariantCulture)})");
            }

            Print(settings, context, "succeeded");
            Interlocked.Increment(ref s_handled);
            return Task.CompletedTask;
        });

        return builder;
    }

    private static void Print(DemoSettings settings, MessageContext context, string what)
    {
        if (!settings.Quiet)
        {
            var m = context.Message;
            Console.Out.WriteLine($"{m.Type} {m.Queue} {m.Id} attempt {m.Attempt}: {what}");
        }
    }
}

/// <summary>The error the <c>fail</c> demo handler throws.</summary>
internal sealed class DemoFailureException : Exception
{
    public DemoFailureException()
    {
    }

    public DemoFailureException(string message)
        : base(message)
    {
    }

    public DemoFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
