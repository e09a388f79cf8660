namespace Millrace.Redis.Tests.Support;

/// <summary>Polls a condition until it holds or a deadline passes (no fixed sleeps as synchronisation).</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        Exception? last = null;
        T value = default!;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                value = await probe();
                if (done(value))
                {
                    return value;
                }

                last = null;
            }
            catch (RedisException e)
            {
                last = e;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Expected {what} within {within.TotalSeconds:0.#} s; last value {value}{(last is null ? "" : $", last error: {last.Message}")}");
    }
}
